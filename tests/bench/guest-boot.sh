#!/bin/bash
# guest-boot: how long an inner guest (with one VF, as the scenarios start them) takes from
# virsh start to its first PCI report, for kernel command lines that differ only in what is
# appended (GUEST_KERNEL_ARGS); variants alternate, so that the host's load hits each alike.
#   tests/testbed/run bench/guest-boot
# Seen on Debian 13 beside two other bed VMs: 139-169 s from virsh start to the report, of
# which 70-99 s of the guest's own uptime; about a minute goes before its kernel runs (QEMU's
# start, firmware, loading kernel and initramfs, all emulated). The appended options changed
# nothing beyond that spread.
. "$(dirname "$0")/../scenarios/lib.sh"
. "$(dirname "$0")/../scenarios/svff-lib.sh"

variants=("" "mitigations=off" "mitigations=off nokaslr no_timer_check tsc=reliable")
pf0=$(pf 0)
vfs_create "$pf0" 1
for round in 1 2; do
	for i in "${!variants[@]}"; do
		t0=$(now)
		GUEST_KERNEL_ARGS=${variants[i]} domain_start boot "$(vf "$pf0" 0)@1"
		wall=$(elapsed "$t0")
		up=$(grep -a '^SVFF-GUEST ready up=' "$TB_LOG/boot.serial" | tr -d '\r' | sed -n '1s/.*up=//p')
		echo "BENCH guest-boot round=$round variant='${variants[i]}' wall=${wall}s guest-uptime-at-ready=${up}s"
		virsh -q destroy boot >/dev/null
		virsh -q undefine boot >/dev/null
	done
done
