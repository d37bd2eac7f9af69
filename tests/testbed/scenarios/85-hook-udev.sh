#!/bin/bash
# 85-hook-udev: svff works on its own. (a) the libvirt hook records which domain was started
# with which VF and forgets it when the domain stops; (b) a VF that vanishes under a running
# domain (numvfs written directly) goes back to it when it returns, through svff's udev rule
# and svff-reattach@.service, with no svff command typed; (c) a domain started while the PF
# is being reconfigured waits for it, or fails with svff's message when the wait is short.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 2
vf0=$(vf "$pf0" 0)
assigned=$SVFF_STATE/assigned/$pf0-vf0.xml

write_conf() {
	mkdir -p /etc/svff
	printf '[%s]\ndriver=vfio-pci\nnumvfs=2\nstart-wait=%s\n' "$pf0" "$1" >/etc/svff/svff.conf
}
write_conf 30
# as for any PF svff manages: no host driver probes its new VFs (svff's rule binds them). A
# host nvme driver probing a VF whose secondary controller is still offline leaves it in a
# state the guest's driver cannot bring up.
write_sysfs 0 "$SYSPCI/$pf0/sriov_drivers_autoprobe"
site_online_rule

step "(a) the hook records a domain's VF at start and forgets it at stop"
domain_start a "$vf0@1"
assert "assignment of VF 0 recorded" test -f "$assigned"
assert "with the domain's name" grep -q "name=\"a\"" "$assigned"
assert "with the guest address" grep -q "bus=\"0x01\"" "$assigned"
virsh -q destroy a
assert_within 10 "assignment gone after the domain stopped" not test -f "$assigned"
virsh -q undefine a

step "(b) surprise removal: numvfs=0 under a running domain, then numvfs=2"
domain_start b "$vf0@1"
guest_sees b 0000:01:00.0
t0=$(now)
write_sysfs 0 "$SYSPCI/$pf0/sriov_numvfs"
step "numvfs=0 returned after $(elapsed "$t0")s (the guest let go of the VF)"
# svff-udev records it from the VF's remove event, which udev handles after the write returns
wait_until 30 eval '[[ $(record_phase "$pf0" 0) == lost ]]' || true
assert_eq "the VF is recorded as lost" lost "$(record_phase "$pf0" 0)"
guest_lost b 0000:01:00.0
t0=$(now)
write_sysfs 2 "$SYSPCI/$pf0/sriov_numvfs"
assert_within 60 "live XML of b has its VF again" xml_has_alias b ua-b-0
guest_sees b 0000:01:00.0
step "VF back in b, nvme bound in the guest, $(elapsed "$t0")s after numvfs=2, no command typed"
assert_eq "host: VF bound to" vfio-pci "$(vf_driver "$vf0")"
assert_eq "host: held by b's QEMU" "$(domain_pid b)" "$(vfio_holder "$vf0")"
assert_within 10 "lost record gone" eval '[[ $(record_count) == 0 ]]'
assert "same guest address" grep -q "bus='0x01'" <(live_hostdev b ua-b-0)
virsh -q destroy b
virsh -q undefine b

step "(c) a domain started during a reconfiguration waits for it"
domain_xml c "console=ttyS0 panic=-1 loglevel=4" 2 "$(hostdev_xml c 0 "$vf0" 1)" >/run/svff-testbed/c.xml
virsh -q define /run/svff-testbed/c.xml >/dev/null
flock "$SVFF_STATE/locks/$pf0.lock" sleep 4 &
wait_until 5 not flock -n "$SVFF_STATE/locks/$pf0.lock" true || fail "the lock was not taken"
t0=$(now)
out=$(virsh start c 2>&1) || fail "virsh start c: $out"
waited=$(elapsed "$t0")
assert "start waited for the lock (${waited}s)" test "${waited%.*}" -ge 3
assert "c is running" eval '[[ $(virsh domstate c) == running ]]'
virsh -q destroy c

write_conf 1
exec {lock_fd}>"$SVFF_STATE/locks/$pf0.lock"
flock "$lock_fd"
if out=$(virsh start c 2>&1); then fail "c started although the PF was locked"; fi
echo "    $out"
assert "virsh start shows svff's message" grep -q "PF '$pf0' is being reconfigured" <<<"$out"
assert "c is not running" eval '[[ $(virsh domstate c) != running ]]'
exec {lock_fd}>&-

step "(d) bad input to the hook and the udev helper"
write_conf 30
assert_svff_exit "the hook run by hand without arguments" 2 /etc/libvirt/hooks/qemu.d/svff
assert_output_has "says how it is run" "libvirt runs this hook"
assert_svff_exit "more than 16 MiB of XML on stdin" 2 \
	bash -c 'head -c 17000000 /dev/zero | tr "\0" " " | /etc/libvirt/hooks/qemu.d/svff c prepare begin -'
assert_svff_exit "malformed XML on stdin" 8 \
	bash -c 'echo "<domain><hostdev" | /etc/libvirt/hooks/qemu.d/svff c prepare begin -'
assert_svff_exit "an operation svff does not know" 0 \
	bash -c 'echo "<domain/>" | /etc/libvirt/hooks/qemu.d/svff c frobnicate begin -'
assert_svff_exit "the udev helper with an unexpected environment" 2 \
	env ACTION=add PCI_SLOT_NAME=eth0 /usr/libexec/svff/svff-udev
printf '[%s]\nnumvfs=lots\n' "$pf0" >/etc/svff/svff.conf
if out=$(virsh start c 2>&1); then fail "c started with an invalid svff.conf"; fi
echo "    $out"
assert "virsh start names the file and the line" grep -q "/etc/svff/svff.conf: line 2" <<<"$out"
assert_eq "no state was written for c" 0 "$(find "$SVFF_STATE/assigned" -name '*.xml' | wc -l)"
