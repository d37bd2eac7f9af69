#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 40-numvfs0-blocks: writing 0 to sriov_numvfs while a running guest holds a VF blocks until the
# guest lets go: the kernel asks vfio-pci's user (QEMU) to release the device, QEMU relays it as
# a hot-unplug request, the guest unplugs. Measures how long the write blocks, then checks that
# the domain lost the hostdev from its live XML and keeps running.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 4
vf0=$(vf "$pf0" 0)
gbdf=0000:01:00.0
domain_start guest "$vf0@1"
guest_wait_device guest "$gbdf" nvme || fail "guest does not show $gbdf=nvme: $(guest_report guest)"
assert_eq "host: $vf0 held by the domain's QEMU" "$(domain_pid guest)" "$(vfio_holder "$vf0")"

done_file=/run/svff-testbed/numvfs0.done
rm -f "$done_file"
t0=$(now)
(
	err=$( { echo 0 >"$SYSPCI/$pf0/sriov_numvfs"; } 2>&1)
	echo "rc=$? after=$(elapsed "$t0") $err" >"$done_file"
) &
assert "numvfs=0 is still blocked while the guest has the VF" not wait_until 0 test -s "$done_file"
assert_within 60 "numvfs=0 returned" test -s "$done_file"
step "numvfs=0 with the VF in a running guest blocked for ${WAITED}s ($(<"$done_file"))"
assert "the write succeeded" grep -q '^rc=0 ' "$done_file"
assert_eq "sriov_numvfs" 0 "$(<"$SYSPCI/$pf0/sriov_numvfs")"
assert "the VF is gone from the host" not test -e "$SYSPCI/$vf0"
assert_within 5 "guest: $gbdf gone" not guest_has_device guest "$gbdf"
assert_within 10 "live XML lacks ua-guest-0" not xml_has_alias guest ua-guest-0
assert_eq "domain state" running "$(virsh domstate guest)"
step "guest now: $(guest_report guest)"
