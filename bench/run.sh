#!/usr/bin/env bash
# make bench: runs the benchmarks side by side in one run and prints one
# table. Raw `go test -bench` output is kept in bench/out/ for benchstat.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
benchtime=${BENCHTIME:-5x}

run() { # package regex file [extra go test flags]
	echo "== go test -run '^\$' -bench '$2' -benchtime $benchtime -benchmem ${*:4} $1" >&2
	go test -run '^$' -bench "$2" -benchtime "$benchtime" -benchmem "${@:4}" "$1" | tee "$out/$3.txt" >&2
}

# metric FILE BENCH UNIT: the value before UNIT on the benchmark's line
# (BENCH with its -N suffix for runs on N CPUs).
metric() {
	awk -v b="$2" -v u="$3" '$1 == b || ($1 ~ "^"b"-[0-9]+$" && b !~ /-[0-9]+$/) { for (i = 2; i <= NF; i++) if ($i == u) { print $(i-1); exit } }' "$out/$1.txt"
}

run ./agent 'Boot1000|Verify1000|Install100|CheckpointBytesPerDay' agent -cpu 1,2
BENCHTIME=1x run ./cmd/licensed 'IdleRSS1000' daemon
for p in licensestore license featureset agent/snmp agent/sshd agent/syslog portal call-home; do
	[ -d "$p" ] || continue
	if grep -qs '^func Benchmark' "$p"/*_test.go; then run "./$p" . "$(echo "$p" | tr / -)"; fi
done
if [ -x bench/snmpd.sh ]; then bench/snmpd.sh >"$out/snmpd-ratio.txt" || true; fi

boot=$(metric agent BenchmarkBoot1000 ns/op)
verify=$(metric agent BenchmarkVerify1000 ns/op)
boot2=$(metric agent BenchmarkBoot1000-2 ns/op)
size=$(stat -c %s bin/licensed)
printf '\n%-58s %s\n' "figure" "value"
printf '%-58s %s\n' "----------------------------------------------------------" "----------------"
calc() { awk "BEGIN { print $1 }"; }
printf '%-58s %.2fx (%.1f ms / %.1f ms)\n' "boot with 1,000 licenses / verifying their signatures" \
	"$(calc "$boot / $verify")" "$(calc "$boot / 1000000")" "$(calc "$verify / 1000000")"
printf '%-58s %.2fx (%.1f ms, on 2 CPUs)\n' "boot with 1,000 licenses on 2 CPUs / verifying on one" \
	"$(calc "$boot2 / $verify")" "$(calc "$boot2 / 1000000")"
printf '%-58s %s MiB\n' "resident memory at idle, 1,000 licenses" "$(metric daemon BenchmarkIdleRSS1000 RSS-MiB)"
printf '%-58s %.2f MiB\n' "stripped licensed binary (bin/licensed)" "$(calc "$size / 1048576")"
printf '%-58s %s MiB/day (%s B/checkpoint)\n' "store writes at idle, 5 evaluations running" \
	"$(metric agent BenchmarkCheckpointBytesPerDay MiB/day)" "$(metric agent BenchmarkCheckpointBytesPerDay bytes/checkpoint)"
printf '%-58s %.1f ms\n' "license install of a 100-license file" "$(calc "$(metric agent BenchmarkInstall100 ns/op) / 1000000")"
for f in "$out"/*.txt; do
	case "$f" in */agent.txt|*/daemon.txt|*/snmpd-ratio.txt) continue ;; esac
	grep -h '^Benchmark' "$f" | awk '{ printf "%-58s", $1; for (i = 3; i < NF; i += 2) printf " %s %s", $i, $(i+1); print "" }'
done
if [ -s "$out/snmpd-ratio.txt" ]; then
	echo
	echo "SNMP against net-snmp's snmpd, side by side (bench/snmpd.sh):"
	cat "$out/snmpd-ratio.txt"
fi
