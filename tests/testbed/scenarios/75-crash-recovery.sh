#!/bin/bash
# 75-crash-recovery: svff-detach is killed (SIGKILL) in the middle of its work, while a
# guest that ignores the unplug keeps it waiting; what it wrote ahead lets svff-reattach
# finish the job: every guest has its VF back, nothing is lost; the ignored unplug keeps its
# record until its domain stops.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 3
domain_launch one "$(vf "$pf0" 0)@1"
domain_launch two "$(vf "$pf0" 1)@1"
domain_launch deaf --no-hotplug "$(vf "$pf0" 2)@1"
guests_booted one two deaf
for name in one two deaf; do guest_sees "$name" 0000:01:00.0; done

svff-detach --pf "$pf0" --timeout 60 >/run/svff-testbed/detach.log 2>&1 &
detach_pid=$!
# killed once the cooperative domains are done and the deaf one is still being waited on
assert_within 60 "the cooperative domains are detached" \
	eval '[[ $(record_phase '"$pf0"' 0) == detached && $(record_phase '"$pf0"' 1) == detached ]]'
assert_eq "the deaf domain's record is written ahead" detaching "$(record_phase "$pf0" 2)"
kill -KILL "$detach_pid"
wait "$detach_pid" 2>/dev/null
step "svff-detach killed: $(tr '\n' '|' </run/svff-testbed/detach.log)"
guest_lost one 0000:01:00.0
guest_lost two 0000:01:00.0

assert_svff_exit "svff-reattach after the crash (deaf's unplug still pending)" 10 svff-reattach
for name in one two deaf; do
	guest_sees "$name" 0000:01:00.0
	assert_xml_has_alias "$name" "ua-$name-0"
done
assert_eq "deaf's record is kept while its unplug may still happen" unplug-pending "$(record_phase "$pf0" 2)"
assert_eq "records left" 1 "$(record_count)"
