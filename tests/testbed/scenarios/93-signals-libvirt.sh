#!/bin/bash
# 93-signals-libvirt: svff-reconf stopped by SIGTERM at each step boundary (the test build's
# fault switch raises it) and by SIGINT inside the program and inside the detach step; every
# guest has its VF back, exit 128 + the signal. A guest that acknowledges its unplug late
# (paused while svff waits) keeps a record until it has let go, then gets its VF back.
# libvirtd restarted in the middle of a detach and of a reattach, and a domain destroyed in
# the middle of a detach, are reported as such; svff-reattach finishes once libvirtd is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

pf0=$(pf 0)
two_domains_on "$pf0"

# run_bg LOG CMD...: start an svff program in the background; its pid in BG_PID
run_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	BG_PID=$!
}

# finish_bg LOG: wait for it; its status in SVFF_RC and output in SVFF_OUT
finish_bg() {
	wait "$BG_PID"
	SVFF_RC=$?
	SVFF_OUT=$(cat "$1")
	sed 's/^/    /' <<<"$SVFF_OUT"
}

for step in detach disable program enable; do
	step "SIGTERM before step '$step'"
	SVFF_FAULT_STEP=term:$step svff_run svff-reconf --pf "$pf0" --numvfs 3 --program /bin/true
	assert_eq "svff-reconf stopped by SIGTERM before '$step': exit status" 143 "$SVFF_RC"
	assert_output_has "says it rolled back" "rolling back"
	assert_eq "numvfs as before" 2 "$(numvfs "$pf0")"
	both_back "$pf0"
done
step "SIGTERM before the last step: the reconfiguration is finished"
SVFF_FAULT_STEP=term:reattach svff_run svff-reconf --pf "$pf0" --numvfs 3
assert_eq "svff-reconf interrupted in its last step: exit status" 0 "$SVFF_RC"
assert_output_has "says it finished" "the reconfiguration was finished"
assert_eq "numvfs" 3 "$(numvfs "$pf0")"
both_back "$pf0"
assert_svff_exit "back to 2 VFs" 0 svff-reconf --pf "$pf0" --numvfs 2

step "SIGINT while the program runs"
run_bg /run/svff-testbed/int.log svff-reconf --pf "$pf0" --numvfs 3 --program /bin/sleep 60
assert_within 60 "the program runs" grep -q "disable done" /run/svff-testbed/int.log
kill -INT "$BG_PID"
finish_bg /run/svff-testbed/int.log
assert_eq "svff-reconf stopped by SIGINT: exit status" 130 "$SVFF_RC"
assert_output_has "the program was stopped" "program '/bin/sleep' was stopped"
assert "no sleep left behind" not pgrep -f "^/bin/sleep 60"
assert_eq "numvfs as before" 2 "$(numvfs "$pf0")"
both_back "$pf0"

step "SIGINT while a paused guest holds up the detach; the guest lets go late"
virsh -q suspend web >/dev/null
run_bg /run/svff-testbed/late.log svff-reconf --pf "$pf0" --numvfs 3 --release-timeout 60
assert_within 30 "web's unplug is asked for" eval '[[ $(record_phase '"$pf0"' 0) == detaching ]]'
kill -INT "$BG_PID"
finish_bg /run/svff-testbed/late.log
assert_eq "svff-reconf stopped by SIGINT in the detach step: exit status" 130 "$SVFF_RC"
assert_eq "numvfs never written" 2 "$(numvfs "$pf0")"
assert_eq "web's record is kept: its unplug is pending" unplug-pending "$(record_phase "$pf0" 0)"
guest_sees db 0000:01:00.0
virsh -q resume web >/dev/null
assert_within 60 "web's guest lets go late" not xml_has_alias web ua-web-0
assert_eq "web's record is still there" unplug-pending "$(record_phase "$pf0" 0)"
assert_svff_exit "svff-reattach gives the late VF back" 0 svff-reattach --pf "$pf0"
both_back "$pf0"

step "libvirtd restarted in the middle of a detach"
virsh -q suspend db >/dev/null
run_bg /run/svff-testbed/restart.log svff-detach --pf "$pf0" --release-timeout 60
assert_within 30 "db's unplug is asked for" eval '[[ $(record_phase '"$pf0"' 1) == detaching ]]'
systemctl restart "$TB_LIBVIRTD.service"
finish_bg /run/svff-testbed/restart.log
assert_eq "svff-detach with libvirtd gone: exit status" 6 "$SVFF_RC"
assert_output_has "says libvirtd went away, naming the VF" "libvirtd went away while VF"
assert_eq "db's record is kept" unplug-pending "$(record_phase "$pf0" 1)"
virsh -q resume db >/dev/null
assert_within 60 "db's guest lets go" not xml_has_alias db ua-db-0
assert_svff_exit "svff-reattach once libvirtd is back" 0 svff-reattach --pf "$pf0"
both_back "$pf0"

step "libvirtd restarted in the middle of a reattach"
assert_svff_exit "db's VF leaves" 0 svff-detach --domain db
fault_gate_close
run_bg /run/svff-testbed/reattach.log env SVFF_FAULT_STEP=stall-attach svff-reattach --domain db
assert_within 30 "svff-reattach is about to attach" grep -qF "test build: stalling" /run/svff-testbed/reattach.log
systemctl restart "$TB_LIBVIRTD.service"
fault_gate_open
finish_bg /run/svff-testbed/reattach.log
assert_eq "svff-reattach with libvirtd gone: exit status" 6 "$SVFF_RC"
assert_eq "db's record is kept" reattaching "$(record_phase "$pf0" 1)"
assert_svff_exit "svff-reattach once libvirtd is back" 0 svff-reattach --pf "$pf0"
both_back "$pf0"

step "a domain destroyed in the middle of a detach"
virsh -q suspend web >/dev/null
run_bg /run/svff-testbed/destroy.log svff-detach --domain web --release-timeout 60
assert_within 30 "web's unplug is asked for" eval '[[ $(record_phase '"$pf0"' 0) == detaching ]]'
virsh -q destroy web >/dev/null
finish_bg /run/svff-testbed/destroy.log
assert_eq "svff-detach of a destroyed domain: exit status" 0 "$SVFF_RC"
assert_output_has "says the domain stopped" "domain 'web' stopped while"
assert_eq "records left" 0 "$(record_count)"
