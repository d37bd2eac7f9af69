#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 15-vfs-reonline: QEMU takes the NVMe secondary controllers offline when the VFs are disabled;
# after sriov_numvfs goes 0 -> N again they stay offline until vfs_online brings them back.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 2
assert_eq "secondary controllers after vfs_create" "online online" \
	"$(secondary_list "$pf0" | awk '$2 <= 2 { print $3 }' | paste -sd' ')"
write_sysfs 0 "$SYSPCI/$pf0/sriov_numvfs"
step "VFs disabled: $(secondary_list "$pf0" | paste -sd',')"
write_sysfs 0 "$SYSPCI/$pf0/sriov_drivers_autoprobe"
write_sysfs 2 "$SYSPCI/$pf0/sriov_numvfs"
write_sysfs 1 "$SYSPCI/$pf0/sriov_drivers_autoprobe"
step "VFs enabled again: $(secondary_list "$pf0" | paste -sd',')"
assert_eq "secondary controllers after numvfs 0 -> 2" "offline offline" \
	"$(secondary_list "$pf0" | awk '$2 <= 2 { print $3 }' | paste -sd' ')"
vfs_online "$pf0"
assert_eq "secondary controllers after vfs_online" "online online" \
	"$(secondary_list "$pf0" | awk '$2 <= 2 { print $3 }' | paste -sd' ')"
