#!/usr/bin/env bash
# make soak: the long reliability runs behind docs/RELIABILITY.md.
#
#   1. the soak tests with SOAK=1: 500+ kill -9 crash cycles, damaged and
#      tampered stores, clock games, 200 clients for 60 s, access checks
#      (soak/), and the *_reliability_test.go files of other packages;
#   2. every fuzz target of the module, one at a time, FUZZTIME each
#      (default 5m). A crash found is saved by go test under the package's
#      testdata/fuzz/FuzzX/ and so runs as a regression test from then on.
#
# Then it prints the figures. Raw output goes to bench/out/soak/.
#
# Knobs (environment):
#   SOAK_PHASES   which phases to run, default "tests fuzz"
#   FUZZTIME      time per fuzz target, default 5m
#   FUZZ_MATCH    only fuzz targets whose "pkg.FuzzName" matches this ERE
#   FUZZ_PARALLEL fuzz workers (go test -parallel), default: all CPUs
#   SOAK_CYCLES   crash cycles, default 500
#   SOAK_CLIENTS  load clients, default 200; SOAK_LOAD_SECONDS default 60
#   SOAK_OUT      where raw output and figures go, default bench/out/soak
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${SOAK_OUT:-bench/out/soak}
mkdir -p "$out"
phases=${SOAK_PHASES:-tests fuzz}
fuzztime=${FUZZTIME:-5m}
case $out in /*) ;; *) out="$PWD/$out" ;; esac
figures="$out/figures.txt"
: >"$figures" || exit 1
status=0
started=$(date -u +%Y-%m-%dT%H:%MZ)

if [[ " $phases " == *" tests "* ]]; then
	# The unit-level proofs live next to the code they prove.
	rel=$(find . -name '*_reliability_test.go' -not -path './soak/*' -exec dirname {} \; | sort -u | tr '\n' ' ')
	echo "== SOAK=1 go test -count=1 -timeout 3h -v ./soak/" >&2
	echo "== go test -count=1 -v -run Reliability $rel" >&2
	(
		SOAK=1 SOAK_FIGURES="$figures" go test -count=1 -timeout 3h -v ./soak/
		rc1=$?
		rc2=0
		if [ -n "$rel" ]; then
			# shellcheck disable=SC2086
			SOAK=1 go test -count=1 -v -run Reliability $rel
			rc2=$?
		fi
		exit $((rc1 | rc2))
	) >"$out/tests.txt" 2>&1
	rc=$?
	grep -E '^(--- (PASS|FAIL|SKIP)|\s+--- |ok |FAIL)' "$out/tests.txt" >&2
	if [ $rc -ne 0 ]; then
		echo "soak tests FAILED (exit $rc); see $out/tests.txt" >&2
		status=1
	fi
fi

if [[ " $phases " == *" fuzz "* ]]; then
	par=()
	[ -n "${FUZZ_PARALLEL:-}" ] && par=(-parallel "$FUZZ_PARALLEL")
	# "pkg FuzzName" for every fuzz target in the module.
	targets=$(go test -list '^Fuzz' ./... 2>/dev/null | awk '
		/^Fuzz/ { names[++n] = $1; next }
		/^ok / { for (i = 1; i <= n; i++) print $2, names[i]; n = 0 }')
	printf '%s\n' "$targets" >"$out/fuzz-targets.txt"
	while read -r pkg name; do
		[ -n "$name" ] || continue
		short=${pkg#github.com/licensed-dev/licensed/}
		if [ -n "${FUZZ_MATCH:-}" ] && ! [[ "$short.$name" =~ $FUZZ_MATCH ]]; then continue; fi
		log="$out/fuzz-$(echo "$short" | tr / -)-$name.txt"
		echo "== go test -run '^\$' -fuzz '^$name\$' -fuzztime $fuzztime ${par[*]} ./$short" >&2
		go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "${par[@]}" "./$short" >"$log" 2>&1
		rc=$?
		# The last progress line carries the totals.
		execs=$(grep -Eo 'execs: [0-9]+' "$log" | tail -1 | awk '{print $2}')
		elapsed=$(grep -Eo 'elapsed: [0-9hms.]+' "$log" | tail -1 | awk '{print $2}')
		result=ok
		if [ $rc -ne 0 ]; then
			result="FAILED (a crashing input is saved under $short/testdata/fuzz/$name/; see $log)"
			status=1
		fi
		printf 'fuzz %-40s %12s execs in %-8s %s\n' "$short.$name" "${execs:-?}" "${elapsed:-?}" "$result" >>"$figures"
	done <<<"$targets"
fi

echo
echo "licensed soak figures, $started, $(nproc) CPUs, $(go version | awk '{print $3}')"
echo "--------------------------------------------------------------------------------"
cat "$figures"
exit $status
