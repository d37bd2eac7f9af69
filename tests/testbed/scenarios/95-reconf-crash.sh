#!/bin/bash
# 95-reconf-crash: svff-reconf killed (SIGKILL, by the fault-injection switch of test builds)
# before each of its steps; svff-reattach then restores every guest: each VF back at its
# guest address with nvme bound, numvfs not left at 0, nothing recorded any more.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

pf0=$(pf 0)
vfs_create "$pf0" 2
manage_pf "$pf0"
domain_launch web "$(vf "$pf0" 0)@1"
domain_launch db "$(vf "$pf0" 1)@1"
guests_booted web db

target=3
for step in detach disable program enable reattach; do
	step "killing svff-reconf before step '$step'"
	SVFF_FAULT_STEP=$step svff_run svff-reconf --pf "$pf0" --numvfs "$target" --program /bin/true
	assert_eq "svff-reconf was killed (SIGKILL) before '$step'" 137 "$SVFF_RC"
	assert_svff_exit "svff-reattach after the crash" 0 svff-reattach
	assert "numvfs is not left at 0 ($(numvfs "$pf0"))" test "$(numvfs "$pf0")" -gt 0
	for name in web db; do
		guest_sees "$name" 0000:01:00.0
		assert_xml_has_alias "$name" "ua-$name-0"
	done
	assert_eq "records left" 0 "$(record_count)"
	assert "no journal left" not journal_exists "$pf0"
	target=$((target == 3 ? 2 : 3))
done
