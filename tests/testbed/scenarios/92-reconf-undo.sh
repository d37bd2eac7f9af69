#!/bin/bash
# 92-reconf-undo: svff-reconf undoes exactly what it did. When the detach step fails (a guest
# ignores the unplug, libvirt refuses a device, a process outside libvirt holds a VF through
# its group or, on a kernel with one (Debian 13), its VFIO device cdev, a VF has a record for
# another domain) numvfs is never written and every other VF is back. A numvfs write stuck in the
# kernel (a holder svff was told not to see, through the test build's fault switch) holds
# none of svff's locks: svff-status, svff-reattach of another PF and the start of an
# unrelated domain each answer within 5 s; once the holder lets go, svff-reattach finishes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

pf0=$(pf 0)
pf1=$(pf 1)
vfs_create "$pf0" 3
vfs_create "$pf1" 1
manage_pf "$pf0"
manage_pf "$pf1"
vf0=$(vf "$pf0" 0)
vf1=$(vf "$pf0" 1)
vf2=$(vf "$pf0" 2)
domain_launch good "$vf0@1"
domain_launch deaf --no-hotplug "$vf1@1"
guests_booted good deaf
guest_sees good 0000:01:00.0
guest_sees deaf 0000:01:00.0

untouched() {
	assert_eq "numvfs never written: still" 3 "$(numvfs "$pf0")"
	assert "the output says numvfs was not touched" grep -qF "numvfs was not touched" <<<"$SVFF_OUT"
	guest_sees good 0000:01:00.0
	assert_xml_has_alias good ua-good-0
	assert "no journal left" not journal_exists "$pf0"
}

step "a guest ignores the unplug"
assert_svff_exit "svff-reconf with a deaf guest" 10 \
	svff-reconf --pf "$pf0" --numvfs 2 --release-timeout 5
assert_output_has "names the deaf domain" "domain 'deaf'"
untouched
assert_eq "deaf's record is kept while its unplug is pending" unplug-pending "$(record_phase "$pf0" 1)"
virsh -q destroy deaf >/dev/null
assert_within 10 "deaf's record goes with its domain" eval '[[ $(record_count) == 0 ]]'

step "libvirt refuses a device (the test build asks for one libvirt does not know)"
SVFF_FAULT_STEP=refuse-detach svff_run svff-reconf --pf "$pf0" --numvfs 2
assert_eq "svff-reconf when libvirt refuses: exit status" 6 "$SVFF_RC"
assert_output_has "shows libvirt's refusal" "libvirt refused to detach"
untouched
assert_eq "records left" 0 "$(record_count)"

step "a process outside libvirt holds a VF"
group=$(vf_group "$vf2")
bash -c "exec 7<>/dev/vfio/$group; exec sleep 600" &
holder=$!
assert_within 10 "the fake holder has /dev/vfio/$group open" vfio_held_by "$vf2" "$holder"
assert_svff_exit "svff-reconf with a VF held outside libvirt" 16 svff-reconf --pf "$pf0" --numvfs 2
assert_output_has "names the holder" "held by process $holder"
assert "nothing was detached" not grep -qF "detached in" <<<"$SVFF_OUT"
assert_eq "numvfs never written: still" 3 "$(numvfs "$pf0")"
assert "good's guest kept its VF all along" guest_has_device good 0000:01:00.0 nvme
kill "$holder"
wait "$holder" 2>/dev/null

cdev=$(vf_vfio_cdev "$vf2")
if [[ -z $cdev ]]; then
	step "kernel $(uname -r) has no VFIO device cdev: a VF is held through its group only"
else
	step "a process outside libvirt holds a VF through its VFIO device cdev $cdev (as iommufd users do)"
	bash -c "exec 7<>$cdev; exec sleep 600" &
	holder=$!
	assert_within 10 "the fake holder has $cdev open" node_held_by "$cdev" "$holder"
	assert "and not the VF's group" vfio_free "$vf2"
	assert_svff_exit "svff-reconf with a VF's device cdev held outside libvirt" 16 \
		svff-reconf --pf "$pf0" --numvfs 2
	assert_output_has "names the holder and the node" "held by process $holder ($cdev)"
	assert_eq "numvfs never written: still" 3 "$(numvfs "$pf0")"
	svff_run svff-status --pf "$pf0" --json
	assert_output_has "svff-status shows the holder" "\"holder_pid\":$holder"
	kill "$holder"
	wait "$holder" 2>/dev/null
fi

step "a VF has a record for another domain"
mkdir -p "$SVFF_STATE/records"
cat >"$(record_file "$pf0" 0)" <<XML
<?xml version="1.0"?>
<svff-record version="1">
  <pf>$pf0</pf>
  <vf index="0" address="$vf0"/>
  <domain uuid="00000000-0000-0000-0000-000000000001" name="other"/>
  <phase>detached</phase>
  <device><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source><alias name='ua-other-0'/></hostdev></device>
</svff-record>
XML
assert_svff_exit "svff-reconf with a record of another domain" 7 svff-reconf --pf "$pf0" --numvfs 2
assert_output_has "names the other domain's record" "still has a record for domain 'other'"
assert_eq "numvfs never written: still" 3 "$(numvfs "$pf0")"
assert "good's guest kept its VF" guest_has_device good 0000:01:00.0 nvme
rm -f "$(record_file "$pf0" 0)"

step "a numvfs write stuck in the kernel"
# how long an unrelated domain (a VF of the other PF) takes to start on this bed
domain_xml lone "console=ttyS0 panic=-1" 1 "$(hostdev_xml lone 0 "$(vf "$pf1" 0)" 1)" >/run/svff-testbed/lone.xml
virsh -q define /run/svff-testbed/lone.xml >/dev/null
t0=$(now)
out=$(timeout 60 virsh -q start lone 2>&1) || fail "virsh start lone: $out"
lone_start=$(($(now) - t0))
virsh -q destroy lone >/dev/null
vfio_device_holder "$vf2"
holder=$HOLDER_PID
assert_within 10 "the fake holder has $vf2 open as QEMU would" vfio_held_by "$vf2" "$holder"
SVFF_FAULT_STEP=no-holder-check svff_run svff-reconf --pf "$pf0" --numvfs 2 --release-timeout 5
assert_eq "svff-reconf exit status with its write stuck" 16 "$SVFF_RC"
assert_output_has "names the blocked write" "the write of numvfs 0"
assert_output_has "names the holder" "held by process $holder"
assert_output_has "says how to finish" "svff-reattach --pf $pf0"
assert "svff-reconf has exited, its locks are free" flock -n "$(pf_lock "$pf0")" true
svff_run timeout 5 svff-status
assert_eq "svff-status answers within 5 s: exit status" 0 "$SVFF_RC"
assert_output_has "svff-status shows the PF busy" "busy"
svff_run timeout 5 svff-reattach --pf "$pf1"
assert_eq "svff-reattach of the other PF answers within 5 s: exit status" 0 "$SVFF_RC"
t0=$(now)
out=$(timeout 60 virsh -q start lone 2>&1) || fail "virsh start lone: $out"
took=$(($(now) - t0))
ok "an unrelated domain starts, in $(centis_to_secs "$took")s (before: $(centis_to_secs "$lone_start")s)"
assert "it is not held up: within 5 s of its start before" test "$took" -lt $((lone_start + 500))
kill "$holder"
wait "$holder" 2>/dev/null
assert_within 30 "the stuck write completes once the holder let go" eval '[[ $(numvfs '"$pf0"') == 0 ]]'
assert_svff_exit "svff-reattach finishes the job" 0 svff-reattach --pf "$pf0"
assert_eq "numvfs back as it was" 3 "$(numvfs "$pf0")"
guest_sees good 0000:01:00.0
assert_xml_has_alias good ua-good-0
assert_eq "records left" 0 "$(record_count)"
assert "no journal left" not journal_exists "$pf0"
