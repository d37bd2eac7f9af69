#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 10-vfs-vfio: 4 VFs on each PF, bound to vfio-pci; each VF in its own IOMMU group with its
# /dev/vfio node; VF index <-> BDF agree through the PF's virtfnK and the VF's physfn links.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

mapfile -t pfs < <(pf_list)
assert_eq "two SR-IOV PFs" 2 "${#pfs[@]}"

declare -A seen_groups=()
for pf in "${pfs[@]}"; do
	assert_eq "$pf offers 4 VFs" 4 "$(<"$SYSPCI/$pf/sriov_totalvfs")"
	t0=$(now)
	vfs_create "$pf" 4
	step "$pf: 4 VFs created, online and bound to vfio-pci in $(elapsed "$t0")s"
	assert_eq "$pf sriov_numvfs" 4 "$(<"$SYSPCI/$pf/sriov_numvfs")"
	for k in 0 1 2 3; do
		bdf=$(vf "$pf" "$k")
		group=$(vf_group "$bdf")
		physfn=$(readlink "$SYSPCI/$bdf/physfn")
		assert_eq "VF $k of $pf ($bdf): physfn points back to the PF" "$pf" "${physfn##*/}"
		assert_eq "VF $bdf driver" vfio-pci "$(vf_driver "$bdf")"
		assert "VF $bdf has /dev/vfio/$group" test -c "/dev/vfio/$group"
		assert "VF $bdf is alone in IOMMU group $group" \
			test "$(find "$SYSPCI/$bdf/iommu_group/devices/" -mindepth 1 | wc -l)" -eq 1
		assert "IOMMU group $group is not shared with another VF" test -z "${seen_groups[$group]:-}"
		seen_groups[$group]=$bdf
		assert_eq "VF $bdf secondary controller" online "$(secondary_of "$pf" "$k" | cut -d' ' -f2)"
		assert_eq "nobody holds /dev/vfio/$group yet" "" "$(vfio_holder "$bdf")"
	done
done
