#!/bin/bash
# 50-main-job: svff's main job. Two VMs each hold a VF of the PF; svff-reconf changes the PF
# from 2 to 4 VFs under them; each VF goes back to its VM at the same guest address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

pf0=$(pf 0)
step "PF $pf0: 2 VFs, managed by svff"
vfs_create "$pf0" 2
manage_pf "$pf0"
domain_launch web "$(vf "$pf0" 0)@1"
domain_launch db "$(vf "$pf0" 1)@1"
guests_booted web db
guest_sees web 0000:01:00.0
guest_sees db 0000:01:00.0
before_web=$(live_hostdev web ua-web-0)
before_db=$(live_hostdev db ua-db-0)
print_status

step "reconfigure the PF from 2 to 4 VFs under the running VMs"
reports_web=$(guest_report_count web) reports_db=$(guest_report_count db) t0=$(now)
assert_svff_exit "svff-reconf --pf $pf0 --numvfs 4" 0 svff-reconf --pf "$pf0" --numvfs 4
echo "BENCH main-job reconf 2->4 under 2 domains total=$(elapsed "$t0")s"
assert_eq "numvfs" 4 "$(numvfs "$pf0")"
for name in web db; do
	guest_sees "$name" 0000:01:00.0
	assert_xml_has_alias "$name" "ua-$name-0"
done
bench_guest_downtime "main-job 2->4" web 0000:01:00.0 nvme "$reports_web"
bench_guest_downtime "main-job 2->4" db 0000:01:00.0 nvme "$reports_db"
assert_eq "web's hostdev is the same as before" "$before_web" "$(live_hostdev web ua-web-0)"
assert_eq "db's hostdev is the same as before" "$before_db" "$(live_hostdev db ua-db-0)"
assert_eq "host: VF 0 held by web's QEMU" "$(domain_pid web)" "$(vfio_holder "$(vf "$pf0" 0)")"
assert_eq "host: VF 1 held by db's QEMU" "$(domain_pid db)" "$(vfio_holder "$(vf "$pf0" 1)")"
assert_eq "records left" 0 "$(record_count)"
print_status
