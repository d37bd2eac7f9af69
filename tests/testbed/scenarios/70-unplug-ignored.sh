#!/bin/bash
# 70-unplug-ignored: one guest ignores the hot-unplug (its kernel runs without PCIe hot-plug).
# svff-detach stops at its deadline naming that domain and VF, keeps its record, still
# detaches the other domain, and exits with "partial failure"; svff-reattach gives the other
# VF back and keeps the ignored one's record (the unplug stays pending in QEMU) until the
# domain has run again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 2
vf0=$(vf "$pf0" 0)
vf1=$(vf "$pf0" 1)
domain_launch good "$vf0@1"
domain_launch deaf --no-hotplug "$vf1@1"
guests_booted good deaf
guest_sees good 0000:01:00.0
guest_sees deaf 0000:01:00.0

assert_svff_exit "svff-detach with a guest that ignores unplug" 10 \
	svff-detach --pf "$pf0" --release-timeout 8
assert_output_has "message names the domain" "domain 'deaf'"
assert_output_has "message names the VF" "$vf1"
assert_output_has "message says how to undo" "svff-reattach"
step "svff-detach gave up after ${SVFF_TIME}s"
assert_eq "record of the good domain's VF" detached "$(record_phase "$pf0" 0)"
assert_eq "record of the deaf domain's VF is kept" unplug-pending "$(record_phase "$pf0" 1)"
assert "host: the good domain's VF is free" vfio_free "$vf0"
guest_lost good 0000:01:00.0
assert_xml_has_alias deaf ua-deaf-0
assert "guest deaf still has its VF" guest_has_device deaf 0000:01:00.0 nvme
assert_eq "host: deaf's QEMU still holds its VF" "$(domain_pid deaf)" "$(vfio_holder "$vf1")"

assert_svff_exit "svff-reattach after the partial detach: the unplug is still pending" 10 \
	svff-reattach --pf "$pf0"
assert_output_has "says the deaf guest has not let go" "domain 'deaf' still has VF $vf1"
guest_sees good 0000:01:00.0
assert_xml_has_alias good ua-good-0
assert_xml_has_alias deaf ua-deaf-0
assert_eq "the deaf domain's record is kept" unplug-pending "$(record_phase "$pf0" 1)"
# the PF is not in svff.conf, so the hook keeps out; once the domain ran again (a new QEMU
# with no unplug pending), the record is resolved
virsh -q destroy deaf >/dev/null
assert_eq "the record stays while the domain is stopped" unplug-pending "$(record_phase "$pf0" 1)"
virsh -q start deaf >/dev/null
assert_svff_exit "svff-reattach after deaf was restarted" 0 svff-reattach --pf "$pf0"
assert_output_has "says it is attached already" "is attached already; record dropped"
assert_eq "records left" 0 "$(record_count)"
