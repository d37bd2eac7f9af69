#!/bin/bash
# 90-reconf: svff-reconf under two running domains: numvfs 2 -> 4 -> 1 -> 2 with both guests
# checked after each step (VF back at the same guest address with nvme bound, or orphaned
# and returned later), rollback after a failing or hanging --program, refusals that leave
# everything as it was, and two reconfigurations of one PF at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

pf0=$(pf 0)
two_domains_on "$pf0"

assert_svff_exit "plan only" 0 svff-reconf --pf "$pf0" --numvfs 4 --dry-run
assert_output_has "plan names web's VF" "plan: domain 'web' VF 0"
assert_eq "dry run: numvfs" 2 "$(numvfs "$pf0")"

cursor=$(journal_cursor)
assert_svff_exit "numvfs 2 -> 4" 0 svff-reconf --pf "$pf0" --numvfs 4
assert_output_has "timed detach step" "detach done in"
assert_eq "numvfs" 4 "$(numvfs "$pf0")"
assert_eq "svff keeps host drivers off the new VFs (sriov_drivers_autoprobe)" 0 \
	"$(cat "$SYSPCI/$pf0/sriov_drivers_autoprobe")"
both_back "$pf0"
# journalctl SVFF_PF=...: the PF's history, step by step, and each domain's VF
assert_eq "journal: one entry per step, in order" "detach disable program enable reattach" \
	"$(journal_since "$cursor" SVFF_PF="$pf0" MESSAGE_ID="$(svff_message_id SVFF_RECONF_STEP_DONE)" |
		json_field SVFF_STEP | paste -sd' ')"
assert_eq "journal: the reconfiguration's end, from svff-reconf" svff-reconf \
	"$(journal_since "$cursor" SVFF_PF="$pf0" MESSAGE_ID="$(svff_message_id SVFF_RECONF_DONE)" |
		json_field SYSLOG_IDENTIFIER | paste -sd' ')"
assert_eq "journal: the detach of each domain's VF" "db=$(vf "$pf0" 1)@detach web=$(vf "$pf0" 0)@detach" \
	"$(journal_vf_events "$cursor" "$pf0" SVFF_VF_DETACHED)"
assert_eq "journal: the reattach of each domain's VF" \
	"db=$(vf "$pf0" 1)@reattach web=$(vf "$pf0" 0)@reattach" \
	"$(journal_vf_events "$cursor" "$pf0" SVFF_VF_REATTACHED)"
# under a unit, stdout is the journal: each message is there once, with its fields (a copy
# from stdout would have the same identifier, and no SVFF_PF)
cursor=$(journal_cursor)
systemd-run --quiet --wait --collect --unit=svff-journal-check "$(command -v svff-reconf)" \
	--pf "$pf0" --numvfs 4 --dry-run || fail "svff-reconf --dry-run under systemd-run failed"
assert_eq "journal: a unit's plan line once, with its PF" "$pf0" \
	"$(journal_since "$cursor" SYSLOG_IDENTIFIER=svff-reconf | grep -F "plan: PF '$pf0'" |
		json_field SVFF_PF | paste -sd' ')"

assert_svff_exit "numvfs 4 -> 1: db's VF 1 is orphaned" 11 svff-reconf --pf "$pf0" --numvfs 1
assert_output_has "names the orphan" "VF 1 of PF '$pf0' (for domain 'db') does not exist now"
guest_sees web 0000:01:00.0
assert_xml_lacks_alias db ua-db-0
assert "guest db has no VF now" not guest_has_device db 0000:01:00.0
assert_eq "db's record is kept" detached "$(record_phase "$pf0" 1)"
print_status

assert_svff_exit "numvfs 1 -> 2: the orphan goes back" 0 svff-reconf --pf "$pf0" --numvfs 2
both_back "$pf0"

assert_svff_exit "numvfs above sriov_totalvfs" 13 svff-reconf --pf "$pf0" --numvfs 9
assert_output_has "says the limit" "at most 4 VFs"
assert_svff_exit "a program that does not exist" 14 svff-reconf --pf "$pf0" --numvfs 3 --program /no/such/loader
assert_output_has "names the program" "'/no/such/loader'"
assert_svff_exit "a program that is not executable" 14 svff-reconf --pf "$pf0" --numvfs 3 --program /etc/hostname
assert_svff_exit "a negative N" 2 svff-reconf --pf "$pf0" --numvfs -1
assert_output_has "says what N may be" "is not a whole number"
assert_svff_exit "an N that is not a number" 2 svff-reconf --pf "$pf0" --numvfs lots
assert_eq "refusals left numvfs" 2 "$(numvfs "$pf0")"
# a PF whose driver cannot change numvfs: with no driver bound, no one can
pf1=$(pf 1)
write_sysfs "$pf1" "$SYSPCI/$pf1/driver/unbind"
assert_svff_exit "a PF without a driver" 13 svff-reconf --pf "$pf1" --numvfs 2
assert_output_has "names the PF and says to bind its driver" "PF '$pf1' has no driver bound"
assert_eq "numvfs of the PF without a driver" 0 "$(numvfs "$pf1")"
write_sysfs "$pf1" /sys/bus/pci/drivers/nvme/bind
assert_xml_has_alias web ua-web-0

assert_svff_exit "a failing program rolls back" 15 svff-reconf --pf "$pf0" --numvfs 3 --program /bin/false
assert_output_has "names the failure" "program '/bin/false' failed with exit status 1"
assert_eq "numvfs rolled back" 2 "$(numvfs "$pf0")"
both_back "$pf0"

# a vendor tool behind a wrapper script: the tool is the wrapper's child
cat >/run/svff-testbed/loader <<'SH'
#!/bin/sh
echo "loading bitstream for $SVFF_PF: $SVFF_OLD_NUMVFS -> $SVFF_NUMVFS VFs"
sleep 300 &
echo $! >/run/svff-testbed/loader-tool.pid
wait
SH
chmod +x /run/svff-testbed/loader
assert_svff_exit "a hanging program is killed with its process group and rolled back" 15 \
	svff-reconf --pf "$pf0" --numvfs 3 --program-timeout 5 --program /run/svff-testbed/loader
assert_output_has "the program's output, with its name" "program '/run/svff-testbed/loader': loading bitstream for $pf0: 2 -> 3 VFs"
assert_output_has "names the program's deadline" "--program-timeout"
tool=$(cat /run/svff-testbed/loader-tool.pid)
assert_within 5 "the wrapper's child (pid $tool) is killed too" not kill -0 "$tool"
assert_eq "numvfs rolled back" 2 "$(numvfs "$pf0")"
both_back "$pf0"

# a program that takes a minute (a bitstream load) succeeds with the default deadlines
svff-reconf --pf "$pf0" --numvfs 3 --program /bin/sleep 60 >/run/svff-testbed/first.log 2>&1 &
first=$!
wait_until 30 not flock -n "$(pf_lock "$pf0")" true ||
	fail "the first reconfiguration did not take the PF's lock: $(cat /run/svff-testbed/first.log)"
assert_svff_exit "a second reconfiguration of the same PF at once" 9 svff-reconf --pf "$pf0" --numvfs 2
assert_output_has "says another operation holds the lock" "another svff operation holds the lock of '$pf0'"
wait "$first"
assert_eq "the first one finished: exit status" 0 "$?"
assert_eq "numvfs" 3 "$(numvfs "$pf0")"
both_back "$pf0"

reports_web=$(guest_report_count web) reports_db=$(guest_report_count db)
assert_svff_exit "JSON progress" 0 svff-reconf --pf "$pf0" --numvfs 2 --json
assert_output_has "a JSON line per step" '"step":"reattach","seconds":'
bench_reconf_cost "4->2 under two domains"
both_back "$pf0"
bench_guest_downtime "reconf 4->2" web 0000:01:00.0 nvme "$reports_web"
bench_guest_downtime "reconf 4->2" db 0000:01:00.0 nvme "$reports_db"
