#!/usr/bin/env bash
# bench/snmpd.sh: the SNMP row of the figures. licensed with 1,000 licenses
# installed against net-snmp's snmpd serving a table of about the same
# number of varbinds, side by side in one run:
#   - snmpbulkwalk of licensed's license MIB (1.3.6.1.4.1.9.9.543) and of
#     snmpd's table, alternating, ROUNDS rounds: median wall time,
#     varbinds per second, agent CPU per walk, ratio licensed/snmpd;
#   - GET requests per second, GET_CLIENTS concurrent clients for
#     GET_SECONDS each (bench/snmpload), sysUpTime.0 plus one table column
#     per request;
#   - the in-process Go benchmark BenchmarkGet of agent/snmp (allocations
#     per request).
#
# The snmpd table: DISMAN-EVENT-MIB mteEventTable and
# mteEventNotificationTable (1.3.6.1.2.1.88.1.4), one row in each per
# `notificationEvent` line of a generated snmpd.conf. These are static
# in-memory rows served by net-snmp's table_tdata handler, its ordinary
# in-process table path: no scripts, no commands, no per-request system
# calls. Rejected: pass/pass_persist (a process per request), the extend
# tables (a walk of nsExtendConfigTable overflows into nsExtendOutput1Table
# and runs the commands), vacmViewTreeFamilyTable from `view` lines (an
# old-style handler, several times slower per varbind in a trial: it would
# flatter licensed), hrSWRunTable, prTable, dskTable and fileTable (read /proc or
# call stat per row), ifTable (needs real interfaces).
#
# Timing is done in bash (date +%s%N) rather than hyperfine, which runs
# one command's rounds before the other's instead of alternating.
#
# Knobs (environment): ROUNDS (5), LICENSES (1000), GET_SECONDS (5),
# GET_CLIENTS (4). Loopback only; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
LICENSES=${LICENSES:-1000}
GET_SECONDS=${GET_SECONDS:-5}
GET_CLIENTS=${GET_CLIENTS:-4}
COMMUNITY=public
LICENSE_MIB=.1.3.6.1.4.1.9.9.543
EVENT_MIB=.1.3.6.1.2.1.88.1.4
SYS_UPTIME=.1.3.6.1.2.1.1.3.0
# Columns per notificationEvent line: mteEventComment, Actions, Enabled,
# EntryStatus and mteEventNotification, NotificationObjectsOwner, Objects.
EVENT_COLUMNS=7

die() { echo "snmpd.sh: $*" >&2; exit 1; }
for v in ROUNDS LICENSES GET_SECONDS GET_CLIENTS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: want a positive integer"
done
SNMPD=/usr/sbin/snmpd
[ -x "$SNMPD" ] || die "$SNMPD not installed (Debian package snmpd)"
for t in snmpbulkwalk snmpget go; do
	command -v "$t" >/dev/null || die "$t not installed"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/snmpd-bench.XXXXXX")
pids=()
stop() { # PID SIGNAL: signal, wait up to 10 s, then kill
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill "-$2" "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local pid
	for pid in "${pids[@]}"; do stop "$pid" TERM; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The net-snmp tools read no configuration but the command line's.
export SNMPCONFPATH=$tmp/client SNMP_PERSISTENT_DIR=$tmp/client MIBS=
mkdir -p "$tmp/client/cert_indexes"

echo "building licensed, licensectl, licportal and bench/snmpload into a temp dir" >&2
go build -trimpath -ldflags '-s -w' -o "$tmp/bin/" ./cmd/licensed ./cmd/licensectl ./cmd/licportal ./bench/snmpload
bin=$tmp/bin
mapfile -t ports < <("$bin/snmpload" ports --count 3)
lport=${ports[0]} sport=${ports[1]} probeport=${ports[2]}

ticks() { # PID: user+system CPU ticks so far
	local s
	s=$(<"/proc/$1/stat")
	s=${s##*) }
	awk '{ print $12 + $13 }' <<<"$s"
}
hz=$(getconf CLK_TCK)
now_ns() { date +%s%N; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)

# --- licensed with LICENSES licenses -----------------------------------
"$bin/licportal" init --state-dir "$tmp/portal" >/dev/null
mapfile -t licfiles < <("$bin/snmpload" sign --portal "$tmp/portal" --out "$tmp/lic" --count "$LICENSES" --chunk 250)
sock=$tmp/licensed.sock
licensed_cmd=("$bin/licensed" --identity testdata/identities/c3750e.json --state-dir "$tmp/state"
	--socket "$sock" --trust "$tmp/portal/trust.pem"
	--snmp-listen "127.0.0.1:$lport" --snmp-community "$COMMUNITY")
"${licensed_cmd[@]}" >"$tmp/licensed.log" 2>&1 &
lpid=$!
pids+=("$lpid")
for ((i = 0; ; i++)); do
	"$bin/licensectl" --socket "$sock" show license udi >/dev/null 2>&1 && break
	kill -0 "$lpid" 2>/dev/null || { cat "$tmp/licensed.log" >&2; die "licensed exited at start"; }
	((i < 200)) || die "licensed did not answer on $sock within 10 s"
	sleep 0.05
done
for f in "${licfiles[@]}"; do
	out=$("$bin/licensectl" --socket "$sock" license install "$f") || die "license install $f failed: $out"
	ok=$(sed -n 's|^\([0-9]*\)/\([0-9]*\) licenses were successfully installed.*|\1 \2|p' <<<"$out")
	if [ -z "$ok" ] || [ "${ok% *}" != "${ok#* }" ]; then
		die "license install $f: not every license installed: $out"
	fi
done

# Wait for the daemon to go idle after the installs, so that the walks
# measure serving, not the tail of the install: CPU ticks still for 1 s.
settle_start=$(now_ns)
last=$(ticks "$lpid") still=0
for ((i = 0; i < 120 && still < 2; i++)); do
	sleep 0.5
	cur=$(ticks "$lpid")
	if ((cur - last <= 1)); then still=$((still + 1)); else still=0; fi
	last=$cur
done
((still >= 2)) || die "licensed still busy 60 s after the installs"
settle_ms=$((($(now_ns) - settle_start) / 1000000 - 1000))

walk_cmd() { # PORT ROOT
	echo snmpbulkwalk -v2c -c "$COMMUNITY" -Cr50 -On -Oq "127.0.0.1:$1" "$2"
}
snmpbulkwalk -v2c -c "$COMMUNITY" -Cr50 -On -Oq "127.0.0.1:$lport" "$LICENSE_MIB" >"$tmp/licensed.walk"
lvb=$(wc -l <"$tmp/licensed.walk")
((lvb >= LICENSES * 15)) || die "licensed's walk has $lvb varbinds, fewer than 15 per license"
lrows=$(grep -c "^$LICENSE_MIB\.1\.2\.3\.1\.3\." "$tmp/licensed.walk" || true)
lget=$(grep "^$LICENSE_MIB\.1\.2\.3\.1\.3\." "$tmp/licensed.walk" | sed -n "$((lrows / 2 + 1))p" | cut -d' ' -f1)
[ -n "$lget" ] || die "no clmgmtLicenseFeatureName column in licensed's walk"

# --- snmpd with the same number of varbinds -----------------------------
snmpd_conf() { # FILE EVENTS
	{
		echo "# generated by bench/snmpd.sh"
		echo "rocommunity $COMMUNITY 127.0.0.1"
		echo "dontLogTCPWrappersConnects yes"
		# Short names (two or three of 0-9A-Za-z) keep the string index short.
		local a=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz i name
		for ((i = 0; i < $2; i++)); do
			name=${a:i/62%62:1}${a:i%62:1}
			(($2 <= 3844)) || name=${a:i/3844:1}$name
			echo "notificationEvent $name .1.3.6.1.6.3.1.1.5.4"
		done
	} >"$1"
}
start_snmpd() { # CONF PORT: sets spid, started_cmd
	mkdir -p "$tmp/snmpd-state"
	started_cmd=("$SNMPD" -f -Lo -C -c "$1" -p "$tmp/snmpd.pid" "udp:127.0.0.1:$2")
	SNMP_PERSISTENT_DIR=$tmp/snmpd-state "${started_cmd[@]}" >"$tmp/snmpd.log" 2>&1 &
	spid=$!
	pids+=("$spid")
	local i
	for ((i = 0; ; i++)); do
		snmpget -v2c -c "$COMMUNITY" -t 0.2 -r 0 "127.0.0.1:$2" "$SYS_UPTIME" >/dev/null 2>&1 && break
		kill -0 "$spid" 2>/dev/null || { cat "$tmp/snmpd.log" >&2; die "snmpd exited at start"; }
		((i < 100)) || die "snmpd did not answer on 127.0.0.1:$2 within 20 s"
	done
}
# A probe with no events counts snmpd's own rows under the root.
snmpd_conf "$tmp/probe.conf" 0
start_snmpd "$tmp/probe.conf" "$probeport"
base=$(snmpbulkwalk -v2c -c "$COMMUNITY" -Cr50 -On -Oq "127.0.0.1:$probeport" "$EVENT_MIB" | wc -l)
stop "$spid" TERM
events=$(((lvb - base + EVENT_COLUMNS / 2) / EVENT_COLUMNS))
((events > 0 && events <= 62 * 3844)) || die "$events notificationEvent lines needed: outside 1-$((62 * 3844))"
snmpd_conf "$tmp/snmpd.conf" "$events"
start_snmpd "$tmp/snmpd.conf" "$sport"
snmpd_cmd=("${started_cmd[@]}")
snmpbulkwalk -v2c -c "$COMMUNITY" -Cr50 -On -Oq "127.0.0.1:$sport" "$EVENT_MIB" >"$tmp/snmpd.walk"
svb=$(wc -l <"$tmp/snmpd.walk")
srows=$(grep -c "^$EVENT_MIB\.3\.1\.3\." "$tmp/snmpd.walk" || true)
sget=$(grep "^$EVENT_MIB\.3\.1\.3\." "$tmp/snmpd.walk" | sed -n "$((srows / 2 + 1))p" | cut -d' ' -f1)
[ -n "$sget" ] || die "no mteEventNotificationObjects column in snmpd's walk"

# --- walks, alternating ----------------------------------------------------
declare -A port=([licensed]=$lport [snmpd]=$sport) root=([licensed]=$LICENSE_MIB [snmpd]=$EVENT_MIB)
declare -A pid=([licensed]=$lpid [snmpd]=$spid) want=([licensed]=$lvb [snmpd]=$svb) cpu=([licensed]=0 [snmpd]=0)
lt=() st=()
for ((r = 0; r < ROUNDS; r++)); do
	order=(licensed snmpd)
	((r % 2 == 0)) || order=(snmpd licensed)
	for a in "${order[@]}"; do
		c0=$(ticks "${pid[$a]}")
		t0=$(now_ns)
		snmpbulkwalk -v2c -c "$COMMUNITY" -Cr50 -On -Oq "127.0.0.1:${port[$a]}" "${root[$a]}" >"$tmp/round.walk"
		t1=$(now_ns)
		cpu[$a]=$((cpu[$a] + $(ticks "${pid[$a]}") - c0))
		n=$(wc -l <"$tmp/round.walk")
		[ "$n" = "${want[$a]}" ] || die "round $((r + 1)): $a walk gave $n varbinds, not ${want[$a]}"
		if [ "$a" = licensed ]; then lt+=($((t1 - t0))); else st+=($((t1 - t0))); fi
	done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
lmed=$(median "${lt[@]}")
smed=$(median "${st[@]}")

# --- GET load ---------------------------------------------------------------
# Two halves each, in the order licensed, snmpd, snmpd, licensed, so that
# a drift in the machine's load falls on both sides alike.
half=$(awk "BEGIN { print $GET_SECONDS / 2 }")s
declare -A greq=([licensed]=0 [snmpd]=0) gsec=([licensed]=0 [snmpd]=0) gcpu=([licensed]=0 [snmpd]=0) goid=([licensed]=$lget [snmpd]=$sget)
for a in licensed snmpd snmpd licensed; do
	c0=$(ticks "${pid[$a]}")
	out=$("$bin/snmpload" get --target "127.0.0.1:${port[$a]}" --community "$COMMUNITY" \
		--clients "$GET_CLIENTS" --duration "$half" --oid "$SYS_UPTIME" --oid "${goid[$a]}") ||
		die "GET load against $a failed: $out"
	gcpu[$a]=$((gcpu[$a] + $(ticks "${pid[$a]}") - c0))
	read -r n secs < <(sed -n 's|.*requests=\([0-9]*\).*seconds=\([0-9.]*\).*|\1 \2|p' <<<"$out")
	[ -n "$secs" ] || die "snmpload: unexpected output: $out"
	greq[$a]=$((greq[$a] + n))
	gsec[$a]=$(awk "BEGIN { print ${gsec[$a]} + $secs }")
done
lreq=${greq[licensed]} sreq=${greq[snmpd]} lgcpu=${gcpu[licensed]} sgcpu=${gcpu[snmpd]}
lrps=$(awk "BEGIN { printf \"%.0f\", $lreq / ${gsec[licensed]} }")
srps=$(awk "BEGIN { printf \"%.0f\", $sreq / ${gsec[snmpd]} }")
grep -q 'Connection from' "$tmp/snmpd.log" && die "snmpd logged every request; the timings are not comparable"

# --- Go benchmark: allocations per GET ---------------------------------------
gobench=$(go test -run '^$' -bench '^BenchmarkGet$' -benchmem -count 1 ./agent/snmp 2>&1 | grep '^BenchmarkGet' || true)

# --- report ---------------------------------------------------------------------
index_len() { # OID COLUMN-OID
	local i=${1#"$2".}
	tr -cd . <<<"$i." | wc -c
}
f() { awk "BEGIN { printf \"$1\", $2 }"; }
echo "SNMP: licensed vs net-snmp snmpd, side by side, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "host: $(uname -sm), $(nproc) CPUs, load average $load0 at start; $($SNMPD -v | awk '/version/ { print "net-snmp " $NF }'); licensed $(git describe --always --dirty 2>/dev/null || echo '(no git)')"
echo "licensed: $LICENSES licenses installed; went idle $(f %.1f "$settle_ms / 1000") s after the last install"
echo "snmpd: $events notificationEvent lines (+ $base varbinds of its own rows) -> mteEventTable/mteEventNotificationTable"
echo
printf '%-34s %14s %14s %16s\n' "" licensed snmpd licensed/snmpd
printf '%-34s %14s %14s %16s\n' "walk varbinds" "$lvb" "$svb" "$(f %.4f "$lvb / $svb")"
printf '%-34s %14s %14s %16s\n' "walk median wall time, ms ($ROUNDS rounds)" "$(f %.1f "$lmed / 1e6")" "$(f %.1f "$smed / 1e6")" "$(f %.2fx "$lmed / $smed")"
printf '%-34s %14s %14s %16s\n' "walk time per varbind, us" "$(f %.2f "$lmed / 1e3 / $lvb")" "$(f %.2f "$smed / 1e3 / $svb")" "$(f %.2fx "($lmed / $lvb) / ($smed / $svb)")"
printf '%-34s %14s %14s %16s\n' "walk varbinds/s" "$(f %.0f "$lvb / ($lmed / 1e9)")" "$(f %.0f "$svb / ($smed / 1e9)")" "$(f %.2fx "($lvb / $lmed) / ($svb / $smed)")"
printf '%-34s %14s %14s %16s\n' "agent CPU per walk, ms" "$(f %.1f "${cpu[licensed]} * 1000 / $hz / $ROUNDS")" "$(f %.1f "${cpu[snmpd]} * 1000 / $hz / $ROUNDS")" \
	"$(f %.2fx "${cpu[licensed]} / (${cpu[snmpd]} > 0 ? ${cpu[snmpd]} : 1)")"
printf '%-34s %14s %14s %16s\n' "GET req/s ($GET_CLIENTS clients, ${GET_SECONDS} s each)" "$lrps" "$srps" "$(f %.2fx "$lrps / $srps")"
printf '%-34s %14s %14s %16s\n' "agent CPU per 1000 GETs, ms" "$(f %.1f "$lgcpu * 1000 / $hz * 1000 / $lreq")" "$(f %.1f "$sgcpu * 1000 / $hz * 1000 / $sreq")" \
	"$(f %.2fx "($lgcpu / $lreq) / ($sgcpu / $sreq)")"
echo
echo "walk ratio below 1x: licensed faster; varbinds/s and req/s ratios above 1x: licensed faster."
echo "Each walk's wall time includes starting snmpbulkwalk; rounds alternate which agent goes first."
echo "Row index length: licensed's license rows $(index_len "$lget" "$LICENSE_MIB.1.2.3.1.3") sub-identifiers, snmpd's event rows $(index_len "$sget" "$EVENT_MIB.3.1.3")."
if [ -n "$gobench" ]; then
	echo "in-process GET (agent/snmp BenchmarkGet, sysDescr.0 + one license column, no network):"
	echo "  $gobench"
else
	echo "in-process GET: go test -bench BenchmarkGet ./agent/snmp did not run"
fi
echo
echo "commands:"
echo "  ${licensed_cmd[*]}" | sed "s|$tmp|\$TMP|g"
echo "  ${snmpd_cmd[*]}   (SNMP_PERSISTENT_DIR=\$TMP/snmpd-state MIBS=)" | sed "s|$tmp|\$TMP|g"
echo "  $(walk_cmd "$lport" "$LICENSE_MIB")"
echo "  $(walk_cmd "$sport" "$EVENT_MIB")"
echo "  snmpload get --target 127.0.0.1:$lport --clients $GET_CLIENTS --duration $half --oid $SYS_UPTIME --oid $lget"
echo "  snmpload get --target 127.0.0.1:$sport --clients $GET_CLIENTS --duration $half --oid $SYS_UPTIME --oid $sget"
echo "    (twice each: licensed, snmpd, snmpd, licensed)"
echo "  go test -run '^\$' -bench '^BenchmarkGet\$' -benchmem ./agent/snmp"
echo "snmpd.conf lines: rocommunity $COMMUNITY 127.0.0.1 / dontLogTCPWrappersConnects yes / $events x 'notificationEvent NAME .1.3.6.1.6.3.1.1.5.4'"
