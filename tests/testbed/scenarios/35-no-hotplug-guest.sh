#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 35-no-hotplug-guest: a guest booted with pcie_ports=compat acpiphp.disable=1 (domain_start
# --no-hotplug) has neither PCIe nor ACPI hotplug driver and ignores the unplug request of a
# live detach-device: the VF stays in the guest, in the live XML and held by QEMU.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 1
vf0=$(vf "$pf0" 0)
gbdf=0000:01:00.0
domain_start guest --no-hotplug "$vf0@1"
guest_wait_device guest "$gbdf" nvme || fail "guest does not show $gbdf=nvme: $(guest_report guest)"
assert "the guest kernel runs with pcie_ports=compat" \
	grep -q pcie_ports=compat "/run/libvirt/qemu/guest.xml"
xml=$(hostdev_file guest 0 "$vf0" 1)
t0=$(now)
out=$(virsh detach-device guest "$xml" --live 2>&1)
rc=$?
step "detach-device returned after $(elapsed "$t0")s with status $rc: $out"
assert "the guest still has $gbdf bound to nvme 10 s later" not wait_until 10 not guest_has_device guest "$gbdf" nvme
assert_xml_has_alias guest ua-guest-0
assert_eq "host: $vf0 still held by the domain's QEMU" "$(domain_pid guest)" "$(vfio_holder "$vf0")"
