#!/bin/bash
# hook: how long a domain start waits for svff's libvirt hook, beside a shell hook doing the
# same first check (is there a PCI host device in the domain XML?). Runs on the build host:
#   tests/bench/hook.sh [BUILD_DIR]        (default: build)
# Prints the mean wall time per hook run over many runs, for a domain without host devices
# (the gate answers), a domain with a VF of an unmanaged PF (the worker parses the XML), and
# an operation svff ignores.
set -euo pipefail
build=$(realpath "${1:-build}")
runs=${RUNS:-500}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SVFF_CONF_FILE=$tmp/svff.conf SVFF_STATE_DIR=$tmp/state SVFF_RUNTIME_DIR=$tmp/run
export SVFF_HOOK_WORKER=$build/hooks/svff-qemu-hook-worker
printf '[0000:7f:00.0]\ndriver=vfio-pci\n' >"$SVFF_CONF_FILE"

domain() { # domain EXTRA_DEVICE
	cat <<XML
<domain type='kvm'><name>web</name><uuid>2b9a4c9e-8b1e-4bde-a7b4-3c37f1d7e002</uuid>
<memory unit='KiB'>262144</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/var/lib/libvirt/images/web.qcow2'/><target dev='vda' bus='virtio'/></disk>
<interface type='network'><source network='default'/><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>
<serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>
$1</devices></domain>
XML
}
domain "" >"$tmp/plain.xml"
domain "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></source></hostdev>" >"$tmp/vf.xml"

cat >"$tmp/shell-hook" <<'SH'
#!/bin/sh
# the same first check, as a shell hook would do it
[ "$2" = prepare ] || [ "$2" = release ] || exit 0
grep -q '^\[' "$SVFF_CONF_FILE" 2>/dev/null || exit 0
xml=$(cat)
echo "$xml" | grep -q hostdev || exit 0
echo "$xml" | grep -o "<address domain='0x[0-9a-f]*' bus='0x[0-9a-f]*' slot='0x[0-9a-f]*' function='0x[0-9a-f]'" >/dev/null
exit 0
SH
chmod +x "$tmp/shell-hook"

measure() { # measure HOOK XML OPERATION: mean microseconds per run
	local hook=$1 xml=$2 op=$3 i t0 t1
	t0=$(date +%s%N)
	for ((i = 0; i < runs; i++)); do "$hook" web "$op" begin - <"$xml"; done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / runs / 1000))
}

true_us=$(measure /bin/true "$tmp/plain.xml" prepare)
printf 'BENCH hook: mean wall time per run over %d runs (microseconds)\n' "$runs"
printf 'BENCH %-44s %8s %12s\n' case svff shell-hook
for c in "domain without host devices:plain:prepare" "domain with a VF of an unmanaged PF:vf:prepare" \
	"operation svff ignores (started):vf:started"; do
	IFS=: read -r name xml op <<<"$c"
	printf 'BENCH %-44s %8s %12s\n' "$name" "$(measure "$build/hooks/svff" "$tmp/$xml.xml" "$op")" \
		"$(measure "$tmp/shell-hook" "$tmp/$xml.xml" "$op")"
done
printf 'BENCH %-44s %8s\n' "(process start: /bin/true)" "$true_us"
