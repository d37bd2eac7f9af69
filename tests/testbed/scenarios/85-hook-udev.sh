#!/bin/bash
# 85-hook-udev: svff works on its own. (a) the libvirt hook records which domain was started
# with which VF and forgets it when the domain stops; (b) a VF that vanishes under a running
# domain (numvfs written directly) goes back to it when it returns, through svff's udev rule
# and svff-reattach@.service, with no svff command typed; (c) a domain started while an svff
# operation holds the PF's lock fails at once with svff's message, and libvirtd answers
# meanwhile (94-hook-guard races a real svff-reconf); (e) a VF the user took from a domain
# with virsh detach-device is not given back to it by a later svff-reconf.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 2
vf0=$(vf "$pf0" 0)
assigned=$(assignment_file "$pf0" 0)

write_conf() {
	mkdir -p /etc/svff
	printf '[%s]\ndriver=vfio-pci\nnumvfs=2\nstart-wait=%s\n' "$pf0" "$1" >/etc/svff/svff.conf
}
write_conf 30
site_online_rule
# svff's own numvfs write sets sriov_drivers_autoprobe as svff.conf says (off for vfio-pci): a
# host nvme driver probing a VF whose secondary controller is still offline would leave it in
# a state the guest's driver cannot bring up, also after the numvfs writes by hand below
assert_svff_exit "svff-reconf sets up the PF" 0 svff-reconf --pf "$pf0" --numvfs 2
assert_eq "sriov_drivers_autoprobe as svff.conf says" 0 "$(cat "$SYSPCI/$pf0/sriov_drivers_autoprobe")"
vf0=$(vf "$pf0" 0)

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

step "(c) a domain started while an svff operation holds the PF's lock"
domain_xml c "console=ttyS0 panic=-1 loglevel=4" 2 "$(hostdev_xml c 0 "$vf0" 1)" >/run/svff-testbed/c.xml
virsh -q define /run/svff-testbed/c.xml >/dev/null
exec {lock_fd}>"$(pf_lock "$pf0")"
flock "$lock_fd"
t0=$(now)
# the hook does not wait for the lock: virsh start fails by itself, long before the timeout
# (a wall-time bound would fail on a loaded host: 4.2 s were seen)
if out=$(timeout 20 virsh start c 2>&1); then fail "c started although the PF was locked"; else rc=$?; fi
echo "    $out"
assert "virsh start failed by itself, not at the 20 s timeout ($(elapsed "$t0")s)" test "$rc" -ne 124
assert "virsh start shows svff's message" grep -q "PF '$pf0' is being reconfigured" <<<"$out"
assert "virsh list answers within 2 s meanwhile" timeout 2 virsh -q list
assert "c is not running" eval '[[ $(virsh domstate c) != running ]]'
exec {lock_fd}>&-
assert "with the lock free, c starts" virsh -q start c

step "(e) a VF the user took from c with virsh detach-device stays taken across svff-reconf"
guests_booted c
guest_sees c 0000:01:00.0
hostdev_xml c 0 "$vf0" 1 >/run/svff-testbed/c-vf.xml
virsh -q detach-device c /run/svff-testbed/c-vf.xml --live
assert_within 30 "live XML of c lacks its VF" not xml_has_alias c ua-c-0
guest_lost c 0000:01:00.0
# libvirt runs no hook for a hot-unplug: svff learns of it from the live XML
assert "the hook's assignment of VF 0 to c is still there" test -f "$assigned"
assert_svff_exit "svff-reconf to 0 VFs" 0 svff-reconf --pf "$pf0" --numvfs 0
assert_output_has "says c no longer has the VF" "domain 'c' no longer has VF 0 ($vf0)"
udevadm settle
assert_eq "no VF recorded as lost to c" 0 "$(record_count)"
assert_svff_exit "svff-reconf back to 2 VFs" 0 svff-reconf --pf "$pf0" --numvfs 2
udevadm settle
assert_eq "no record" 0 "$(record_count)"
assert "c has not got the VF back" not xml_has_alias c ua-c-0
virsh -q destroy c

step "(d) bad input to the hook and the udev helper"
write_conf 30
assert_svff_exit "the hook run by hand without arguments" 2 /etc/libvirt/hooks/qemu.d/svff
assert_output_has "says how it is run" "libvirt runs this hook"
assert_svff_exit "more than 16 MiB of XML on stdin: not svff's business, let through" 0 \
	bash -c 'head -c 17000000 /dev/zero | tr "\0" " " | /etc/libvirt/hooks/qemu.d/svff c prepare begin -'
assert_output_has "says so" "larger than 16 MiB"

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
assert_eq "no state was written for c" 0 "$(find "$SVFF_RUNTIME/assigned" -name '*.xml' | wc -l)"
