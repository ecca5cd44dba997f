#!/usr/bin/env bash
# Starts a simulated demo device on loopback (make run). Everything it
# makes lives under the state folder given as $1 (default demo-state).
set -euo pipefail
dir=${1:-demo-state}
shift || true
bin=bin
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
udi=WS-C3750E-24TD-S:FDO1234X0AB

# A lab portal: its key signs the demo licenses the device trusts.
if [ ! -f "$dir/portal/trust.pem" ]; then
	"$bin/licportal" init --state-dir "$dir/portal" >/dev/null
fi
for f in ipservices advipservices; do
	[ -s "$dir/$f.lic" ] || "$bin/licportal" issue --state-dir "$dir/portal" --udi "$udi" --feature "$f" >"$dir/$f.lic"
done
[ -s "$dir/demo.pak" ] || "$bin/licportal" pak create --state-dir "$dir/portal" --sku c3750e-ipservices >"$dir/demo.pak"
ssh_flags=()
if command -v ssh-keygen >/dev/null 2>&1; then
	[ -f "$dir/admin_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C demo-admin -f "$dir/admin_ed25519"
	ssh_flags=(--ssh-listen 127.0.0.1:2222 --ssh-authorized-keys "$dir/admin_ed25519.pub")
fi

cat <<MSG
Demo device sw1 (WS-C3750E-24TD-S, UDI $udi), state in $dir

From a second terminal:
  export LICENSED_SOCKET=$dir/licensed.sock
  bin/licensectl show license udi
  bin/licensectl license install $dir/ipservices.lic
  bin/licensectl show license
  ssh -p 2222 -i $dir/admin_ed25519 -o StrictHostKeyChecking=no admin@127.0.0.1    (the device prompt)
  snmpwalk -v2c -c public 127.0.0.1:1161 1.3.6.1.4.1.9.9.543
Call-home (docs/CALLHOME.md): start the lab portal in a third terminal,
  bin/licportal serve --state-dir $dir/portal --listen 127.0.0.1:8443
then redeem the demo PAK $(cat "$dir/demo.pak") onto the device:
  bin/licensectl license call-home install pak $(cat "$dir/demo.pak") --yes
Stop with Ctrl-C; the device keeps its licenses in $dir/device.

MSG
exec "$bin/licensed" --demo --state-dir "$dir/device" --socket "$dir/licensed.sock" \
	--trust "$dir/portal/trust.pem" "${ssh_flags[@]}" \
	--snmp-listen 127.0.0.1:1161 --snmp-community public \
	--portal https://127.0.0.1:8443 --portal-ca "$dir/portal/ca.pem" "$@"
