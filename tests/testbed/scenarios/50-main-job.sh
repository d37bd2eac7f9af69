#!/bin/bash
# 50-main-job: svff's main job. Two VMs each hold a VF of the PF; the PF is reconfigured from
# 2 to 4 VFs under them; each VF goes back to its VM at the same guest address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"

pf0=$(pf 0)
step "PF $pf0: 2 VFs"
vfs_create "$pf0" 2
domain_start web "$(vf "$pf0" 0)@1"
domain_start db "$(vf "$pf0" 1)@1"
guest_sees web 0000:01:00.0
guest_sees db 0000:01:00.0
print_status

step "take the VFs away from their VMs"
assert_svff_exit "svff-detach --pf $pf0" 0 svff-detach --pf "$pf0"
for name in web db; do
	guest_lost "$name" 0000:01:00.0
	assert_xml_lacks_alias "$name" "ua-$name-0"
done
for k in 0 1; do
	assert "host: VF $k of $pf0 held by nobody" vfio_free "$(vf "$pf0" "$k")"
	assert_eq "record of VF $k" detached "$(record_phase "$pf0" "$k")"
done
print_status

if command -v svff-reconf >/dev/null; then
	assert_svff_exit "svff-reconf --numvfs 4" 0 svff-reconf --pf "$pf0" --numvfs 4
else
	step "svff-reconf is not there yet: the test bed reconfigures the PF itself, then runs svff-reattach"
	numvfs_set "$pf0" 4
	assert_svff_exit "svff-reattach --pf $pf0" 0 svff-reattach --pf "$pf0"
fi

for name in web db; do
	guest_sees "$name" 0000:01:00.0
	assert_xml_has_alias "$name" "ua-$name-0"
done
assert_eq "host: VF 0 held by web's QEMU" "$(domain_pid web)" "$(vfio_holder "$(vf "$pf0" 0)")"
assert_eq "host: VF 1 held by db's QEMU" "$(domain_pid db)" "$(vfio_holder "$(vf "$pf0" 1)")"
assert_eq "records left" 0 "$(record_count)"
print_status
