#!/bin/bash
# 52-slow-readiness: the site's udev rule takes about 40 s per new VF (20 s for each of its
# two events), as on a loaded host. svff-reconf gives no VF back before udev is done with it:
# with the default deadline it waits and every guest's driver binds; with a 5 s deadline it
# gives nothing back, exits 17 and keeps the records (phase not-ready), and svff-reattach
# finishes once udev is done. A SIGTERM while it waits rolls back (numvfs as before, a second
# signal says what it still waits for) and exits 143 with every guest's VF back.
# testbed: long
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

pf0=$(pf 0)
two_domains_on "$pf0"
site_online_rule 20

step "numvfs 2 -> 3 with the default readiness deadline"
assert_svff_exit "svff-reconf waits for the slow site rule" 0 svff-reconf --pf "$pf0" --numvfs 3
assert_output_has "timed enable step" "enable done in"
enable_s=$(sed -n "s/.*enable done in \([0-9]*\)\..*/\1/p" <<<"$SVFF_OUT")
assert "the enable step waited for the site rule (${enable_s}s >= 40s)" test "${enable_s:-0}" -ge 40
both_back "$pf0"

step "numvfs 3 -> 2 with a 5 s readiness deadline"
assert_svff_exit "svff-reconf stops at the readiness deadline" 17 \
	svff-reconf --pf "$pf0" --numvfs 2 --ready-timeout 5
assert_output_has "names the deadline" "--ready-timeout"
assert_output_has "says what it waits for" "waiting for udev to finish its events"
assert "web has no VF that is not ready" not guest_has_device web 0000:01:00.0
assert "db has no VF that is not ready" not guest_has_device db 0000:01:00.0
assert_eq "web's record waits for readiness" not-ready "$(record_phase "$pf0" 0)"
assert_eq "db's record waits for readiness" not-ready "$(record_phase "$pf0" 1)"
assert_eq "numvfs is the new one" 2 "$(numvfs "$pf0")"
assert_within 120 "udev is done with the new VFs" udevadm settle --timeout=1
assert_svff_exit "svff-reattach gives them back once udev is done" 0 svff-reattach --pf "$pf0"
both_back "$pf0"

step "SIGTERM while svff-reconf waits for readiness"
svff-reconf --pf "$pf0" --numvfs 3 >/run/svff-testbed/term.log 2>&1 &
reconf=$!
assert_within 60 "svff-reconf waits for the new VFs" eval '[[ $(numvfs '"$pf0"') == 3 ]] && grep -q "disable done" /run/svff-testbed/term.log'
sleep 2
kill -TERM "$reconf"
sleep 3
kill -TERM "$reconf"
wait "$reconf"
rc=$?
SVFF_OUT=$(cat /run/svff-testbed/term.log)
sed 's/^/    /' <<<"$SVFF_OUT"
assert_eq "svff-reconf exit status after SIGTERM" 143 "$rc"
assert_output_has "the enable step was interrupted" "enable interrupted"
assert_output_has "a second signal says what is still waited for" "interrupted: still waiting for"
assert_eq "numvfs rolled back" 2 "$(numvfs "$pf0")"
both_back "$pf0"
