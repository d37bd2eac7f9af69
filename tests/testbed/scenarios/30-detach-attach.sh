#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 30-detach-attach: live detach-device / attach-device round trips of a VF with the same XML
# (alias and guest address): the guest sees it go and come back at the same address with the
# nvme driver bound, the live XML loses and regains the alias, /dev/vfio/N is released and
# taken again by the domain's QEMU.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 4
vf0=$(vf "$pf0" 0)
gbdf=0000:03:00.0
domain_start guest "$vf0@3"
guest_wait_device guest "$gbdf" nvme || fail "guest does not show $gbdf=nvme: $(guest_report guest)"
qemu_pid=$(domain_pid guest)
assert_eq "host: $vf0 held by the domain's QEMU" "$qemu_pid" "$(vfio_holder "$vf0")"
xml=$(hostdev_file guest 0 "$vf0" 3)

for round in 1 2; do
	t0=$(now)
	out=$(virsh detach-device guest "$xml" --live 2>&1) || fail "detach-device: $out"
	step "round $round: detach-device returned after $(elapsed "$t0")s"
	assert_within 30 "live XML lacks ua-guest-0" not xml_has_alias guest ua-guest-0
	assert_within 30 "host: /dev/vfio/$(vf_group "$vf0") released" vfio_free "$vf0"
	assert_within 30 "guest: $gbdf gone" not guest_has_device guest "$gbdf"
	step "round $round: detached $(elapsed "$t0")s after the request; host driver of $vf0 now: $(vf_driver "$vf0")"

	t0=$(now)
	out=$(virsh attach-device guest "$xml" --live 2>&1) || fail "attach-device: $out"
	step "round $round: attach-device returned after $(elapsed "$t0")s"
	assert_xml_has_alias guest ua-guest-0
	assert_within 30 "guest: $gbdf back with nvme bound" guest_has_device guest "$gbdf" nvme
	assert_within 10 "host: $vf0 held by the domain's QEMU again" vfio_held_by "$vf0" "$qemu_pid"
	assert_eq "host: $vf0 bound to" vfio-pci "$(vf_driver "$vf0")"
	step "round $round: attached, guest driver bound $(elapsed "$t0")s after the request; $(guest_report guest)"
done
