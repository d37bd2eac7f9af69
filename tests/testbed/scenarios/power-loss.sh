# shellcheck shell=bash
# tests/testbed/scenarios/power-loss.sh - power losses for the boot scenarios (86, 88), sourced
# after lib.sh and svff-lib.sh.
#
# The host is set up as an admin would (svff.conf: PF 0 with numvfs=2, the site's rule and unit
# at boot) with two domains that have <autostart>, web (VF 0) and db (VF 1). cut_power_at POINT
# cuts the power at a point of svff's work; after the boot, after_power_loss POINT checks what
# the boot made of it: svff's boot job done before libvirtd, the PF as svff.conf says, no
# journal, both domains autostarted with their VF at its guest address and nvme bound in the
# guest, no record left. A point is
#   detach|disable|program|enable|reattach: svff-reconf 2 -> 3 reboots the host at once, without
#       syncing, as soon as its journal says this step (SVFF_FAULT_STEP=reboot:STEP)
#   record-write|record-fsync|record-rename|record-dirsync: svff-detach of both VFs reboots the
#       host inside the atomic write of a record: after writing the temporary file, after its
#       fsync, after the rename, after the directory's fsync
pf0=$(pf 0)

cut_power_at() {
	step "power loss at '$1'"
	case $1 in
	record-*) expect_power_loss env SVFF_FAULT_STEP="reboot:$1" svff-detach --pf "$pf0" ;;
	*) expect_power_loss env SVFF_FAULT_STEP="reboot:$1" svff-reconf --pf "$pf0" --numvfs 3 --program /bin/true ;;
	esac
}

# after_power_loss POINT
after_power_loss() {
	local journal=yes
	[[ $1 == record-* ]] && journal=no
	step "after the power loss at '$1' (a journal to finish: $journal)"
	assert_boot_job
	if [[ $journal == yes ]]; then
		assert "svff-apply finished the interrupted reconfiguration" boot_job_said "interrupted at step '$1'"
	fi
	assert "no journal left" not journal_exists "$pf0"
	assert_pf_as_conf "$pf0" 2
	assert_autostarted web db
	bench_boot_to_vf "after a power loss at $1 (journal to finish: $journal)" web db
	print_status
	assert "svff-status finds no corrupt record" test "$SVFF_RC" -ne 8
	assert_eq "records left (each resolved when its domain started with its VF)" 0 "$(record_count)"
}

# power_loss_chain POINT...: phase 1 sets up the host with both domains running and cuts the
# power at the first point; phase N checks the cut at point N-1, then cuts at point N
power_loss_chain() {
	local points=("$@")
	if ((TB_PHASE == 1)); then
		vfs_create "$pf0" 2
		boot_conf "$pf0" 2
		site_at_boot
		assert_svff_exit "svff-apply" 0 svff-apply
		domain_start_autostart web "$(vf "$pf0" 0)@1"
		domain_start_autostart db "$(vf "$pf0" 1)@1"
		guest_sees web 0000:01:00.0
		guest_sees db 0000:01:00.0
	else
		after_power_loss "${points[TB_PHASE - 2]}"
	fi
	if ((TB_PHASE <= ${#points[@]})); then cut_power_at "${points[TB_PHASE - 1]}"; fi
}
