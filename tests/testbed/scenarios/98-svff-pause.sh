#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 98-svff-pause: svff pauses VFs instead of detaching them where the domain's QEMU can (svff's
# patched QEMU, qemu/), and detaches them where it cannot. (a) svff-reconf --mode auto takes
# the PF from 2 to 4 VFs under two domains: web (patched QEMU) keeps its device throughout and
# its driver works afterwards; db (Debian's QEMU) has its VF detached and given back. (b)
# svff-detach --mode pause, numvfs 0, vfio_pci unloaded and loaded, numvfs 2, svff-reattach:
# web's device is resumed, never removed. (c) a crash between pause and resume is finished by
# svff-reattach.
# testbed: needs patched-qemu
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=svff-lib.sh
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf' EXIT

gbdf=0000:01:00.0
# never_removed NAME: every PCI report of the guest so far shows its device with nvme bound
never_removed() { ! grep -a '^SVFF-GUEST pci ' "$TB_LOG/$1.serial" | grep -qv " $gbdf=nvme,"; }

# driver_works NAME: the guest resets its NVMe controller through its driver and it is live
driver_works() {
	local out
	out=$(guest_probe "$1") || fail "guest $1: controller reset failed: $out"
	ok "guest $1: its driver works ($out)"
}

pf0=$(pf 0)
vfs_create "$pf0" 2
manage_pf "$pf0"
TB_EMULATOR=$TB_PATCHED_QEMU domain_launch web --probe "$(vf "$pf0" 0)@1"
domain_launch db "$(vf "$pf0" 1)@1"
guests_booted web db
guest_sees web "$gbdf"
guest_sees db "$gbdf"
driver_works web
before_web=$(live_hostdev web ua-web-0)

step "(a) svff-reconf --mode auto: 2 -> 4 VFs, web paused, db detached"
assert_svff_exit "svff-reconf --mode auto" 0 svff-reconf --pf "$pf0" --numvfs 4 --mode auto
assert_output_has "plans web's VF for a pause" "pause, then resume"
assert_output_has "web's VF paused" "paused in"
assert_output_has "db's VF detached" "detached in"
assert_output_has "web's VF resumed" "resumed at guest $gbdf"
assert_output_has "says db's QEMU cannot pause" "domain 'db': its QEMU offers no VFIO pause"
assert_eq "numvfs" 4 "$(numvfs "$pf0")"
assert "guest web: no PCI report ever lacked $gbdf=nvme" never_removed web
driver_works web
guest_sees db "$gbdf"
assert_eq "web's hostdev is the same as before" "$before_web" "$(live_hostdev web ua-web-0)"
assert_eq "host: VF 0 held by web's QEMU" "$(domain_pid web)" "$(vfio_holder "$(vf "$pf0" 0)")"
assert_eq "host: VF 1 held by db's QEMU" "$(domain_pid db)" "$(vfio_holder "$(vf "$pf0" 1)")"
assert_eq "records left" 0 "$(record_count)"

step "(b) svff-detach --mode pause; numvfs 0; vfio_pci unloaded; numvfs 2; svff-reattach"
assert_svff_exit "svff-detach --mode pause" 0 svff-detach --pf "$pf0" --mode pause
assert_output_has "web's VF paused" "paused in"
assert_output_has "warns that db's VF is detached instead" "domain 'db': its QEMU offers no VFIO pause"
assert_eq "record of web's VF" paused "$(record_phase "$pf0" 0)"
assert_eq "record of db's VF" detached "$(record_phase "$pf0" 1)"
svff_run svff-status --pf "$pf0"
assert_output_has "svff-status shows the paused VF" "paused"
assert "host: web's VF is free" vfio_free "$(vf "$pf0" 0)"
assert_xml_has_alias web ua-web-0
t0=$(now)
write_sysfs 0 "$SYSPCI/$pf0/sriov_numvfs"
ok "numvfs=0 returned after $(elapsed "$t0")s"
err=$(modprobe -r vfio_pci 2>&1) || fail "modprobe -r vfio_pci: $err"
ok "vfio_pci unloaded"
err=$(modprobe vfio_pci 2>&1) || fail "modprobe vfio_pci: $err"
write_sysfs 2 "$SYSPCI/$pf0/sriov_numvfs"
udevadm settle
wait_until 30 vfs_bound_to_vfio "$pf0" || fail "new VFs of $pf0 not bound to vfio-pci by svff's udev rule"
ok "numvfs=2: the new VFs are bound to vfio-pci"
assert_svff_exit "svff-reattach" 0 svff-reattach --pf "$pf0"
assert_output_has "web's VF resumed" "resumed at guest $gbdf"
assert "guest web: no PCI report ever lacked $gbdf=nvme" never_removed web
driver_works web
guest_sees db "$gbdf"
assert_eq "records left" 0 "$(record_count)"

step "(c) svff-detach --mode pause killed right after the pause; svff-reattach finishes"
svff-detach --pf "$pf0" --mode pause -q
# what a crash leaves: the record says pausing, QEMU has the device paused
sed -i 's:<phase>paused</phase>:<phase>pausing</phase>:' "$(record_file "$pf0" 0)"
assert_eq "record of web's VF" pausing "$(record_phase "$pf0" 0)"
assert_svff_exit "svff-reattach after the crash" 0 svff-reattach --pf "$pf0"
assert_output_has "web's VF resumed" "resumed at guest $gbdf"
driver_works web
guest_sees db "$gbdf"
assert "guest web: no PCI report ever lacked $gbdf=nvme" never_removed web
assert_eq "records left" 0 "$(record_count)"
print_status
