#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 20-two-domains: two inner domains, each with one VF (one from each PF); each guest sees its VF
# at the requested guest address with the nvme driver bound, and on the host the VF's
# /dev/vfio/N is held by that domain's QEMU process.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

pf0=$(pf 0) pf1=$(pf 1)
vfs_create "$pf0" 4
vfs_create "$pf1" 4
vf_a=$(vf "$pf0" 0) vf_b=$(vf "$pf1" 1)

t0=$(now)
domain_launch guest-a "$vf_a@1"
domain_launch guest-b "$vf_b@2"
guests_booted guest-a guest-b
step "guest-a (VF $vf_a at guest bus 1) and guest-b (VF $vf_b at guest bus 2) up in $(elapsed "$t0")s"

check_domain() { # NAME VF GUEST_BDF OTHER_GUEST_BDF
	local name=$1 vf=$2 gbdf=$3 other=$4
	if guest_wait_device "$name" "$gbdf" nvme; then
		ok "$name sees its VF at $gbdf with nvme bound (${WAITED}s): $(guest_report "$name")"
	else
		fail "$name does not show $gbdf=nvme: $(guest_report "$name")"
	fi
	assert "$name has an nvme device node" test "$(guest_nvme_count "$name")" -ge 1
	assert "$name does not see the other guest's address $other" not guest_has_device "$name" "$other"
	assert_xml_has_alias "$name" "ua-$name-0"
	assert_eq "host: $vf is bound to" vfio-pci "$(vf_driver "$vf")"
	assert_eq "host: /dev/vfio/$(vf_group "$vf") of $vf held by $name's QEMU" \
		"$(domain_pid "$name")" "$(vfio_holder "$vf")"
}
check_domain guest-a "$vf_a" 0000:01:00.0 0000:02:00.0
check_domain guest-b "$vf_b" 0000:02:00.0 0000:01:00.0
assert "the other VFs are not held" vfio_free "$(vf "$pf0" 1)"
