#!/bin/bash
# 86-boot: the host comes up with its VFs, after a clean reboot and after a power loss.
# Phase 1: svff.conf asks for 2 VFs of PF 0 on vfio-pci with autoprobe off; svff-status --check
# sees the drift of a PF set up by hand, svff-apply --dry-run changes nothing, svff-apply fixes
# it; two domains with a VF each are defined with <autostart> and left shut off; clean reboot.
# Phase 2: svff's boot job ran before libvirtd, the PF has its 2 VFs on vfio-pci, and both
# domains started by themselves with their VF at its guest address, nvme bound in the guest;
# then the power goes while svff-reconf 2 -> 3 is in its 'enable' step (numvfs 0 written, the
# new count not yet). Phase 3: the boot job finished the reconfiguration from its journal
# before libvirtd autostarted the domains, which have their VFs (see power-loss.sh;
# 88-power-loss-all cuts at every step and inside the write of a record).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
. "$(dirname "$0")/power-loss.sh"

case $TB_PHASE in
1)
	vfs_create "$pf0" 2
	boot_conf "$pf0" 2
	site_at_boot
	step "drift: the PF was set up by hand with autoprobe on"
	assert_svff_exit "svff-status --check reports the drift" "$SVFF_EXIT_DRIFT" svff-status --check
	assert_output_has "and names what differs" autoprobe
	assert_svff_exit "svff-apply --dry-run" 0 svff-apply --dry-run
	assert_eq "dry run: autoprobe unchanged" 1 "$(cat "$SYSPCI/$pf0/sriov_drivers_autoprobe")"
	assert_svff_exit "svff-apply" 0 svff-apply
	assert_pf_as_conf "$pf0" 2
	domain_define_autostart web "$(vf "$pf0" 0)@1"
	domain_define_autostart db "$(vf "$pf0" 1)@1"
	step "clean reboot"
	tb_reboot clean
	;;
2)
	assert_boot_job
	assert_pf_as_conf "$pf0" 2
	assert_autostarted web db
	bench_boot_to_vf "after a clean reboot" web db
	assert_eq "records left" 0 "$(record_count)"
	cut_power_at enable
	;;
3)
	after_power_loss enable
	;;
esac
