#!/bin/bash
# 60-detach-reattach: three domains hold four VFs of PF 0 (one domain has two) and one domain
# also holds a VF of PF 1. svff-detach --pf takes exactly PF 0's VFs away, numvfs goes 0 and
# back, svff-reattach gives every VF back at the same guest address with the same hostdev XML.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"

pf0=$(pf 0)
pf1=$(pf 1)
vfs_create "$pf0" 4
vfs_create "$pf1" 1
domain_launch a "$(vf "$pf0" 0)@1"
domain_launch b "$(vf "$pf0" 1)@1" "$(vf "$pf1" 0)@2"
domain_launch c "$(vf "$pf0" 2)@1" "$(vf "$pf0" 3)@2"
guests_booted a b c
# domain:alias:guest address of every VF of PF 0
devices="a:ua-a-0:0000:01:00.0 b:ua-b-0:0000:01:00.0 c:ua-c-0:0000:01:00.0 c:ua-c-1:0000:02:00.0"
declare -A before
for d in $devices; do
	IFS=: read -r name alias gaddr <<<"$d"
	guest_sees "$name" "$gaddr"
	before[$alias]=$(live_hostdev "$name" "$alias")
	[[ -n ${before[$alias]} ]] || fail "no hostdev $alias in $name's live XML"
done
guest_sees b 0000:02:00.0

assert_svff_exit "svff-detach --pf $pf0 --dry-run" 0 svff-detach --pf "$pf0" --dry-run
assert_eq "dry run changed nothing: records" 0 "$(record_count)"
assert_xml_has_alias a ua-a-0

assert_svff_exit "svff-detach --pf $pf0" 0 svff-detach --pf "$pf0"
detach_time=$SVFF_TIME
for d in $devices; do
	IFS=: read -r name alias _ <<<"$d"
	assert_xml_lacks_alias "$name" "$alias"
done
guest_lost a 0000:01:00.0
guest_lost b 0000:01:00.0
guest_wait_gone c 0000:01:00.0 60 && guest_wait_gone c 0000:02:00.0 60 ||
	fail "guest c still shows a VF: $(guest_report c)"
ok "guest c: both VFs gone"
for k in 0 1 2 3; do
	assert "host: VF $k of $pf0 held by nobody" vfio_free "$(vf "$pf0" "$k")"
	assert_eq "record of VF $k" detached "$(record_phase "$pf0" "$k")"
done
assert_xml_has_alias b ua-b-1
assert "guest b keeps the VF of PF 1" guest_has_device b 0000:02:00.0 nvme
step "svff-detach of 4 VFs from 3 domains took ${detach_time}s"

numvfs_set "$pf0" 4

assert_svff_exit "svff-reattach --pf $pf0" 0 svff-reattach --pf "$pf0"
for d in $devices; do
	IFS=: read -r name alias gaddr <<<"$d"
	guest_sees "$name" "$gaddr"
	assert_eq "live hostdev $alias of $name equals the original" "${before[$alias]}" \
		"$(live_hostdev "$name" "$alias")"
done
for k in 0 1 2 3; do
	assert "host: VF $k of $pf0 held again" not vfio_free "$(vf "$pf0" "$k")"
done
assert_eq "records left" 0 "$(record_count)"
assert_svff_exit "svff-reattach with nothing recorded" 0 svff-reattach
