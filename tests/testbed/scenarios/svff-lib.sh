# shellcheck shell=bash
# tests/testbed/scenarios/svff-lib.sh - helpers for scenarios that drive svff's programs.
# Sourced after lib.sh.

SVFF_STATE=/var/lib/svff
SVFF_RUNTIME=/run/svff

# pf_lock PF: svff's lock file of the PF
pf_lock() { echo "$SVFF_RUNTIME/locks/$1.lock"; }

# svff_run CMD ARGS...: run an svff program; its stdout and stderr are shown and kept in
# SVFF_OUT, its exit status in SVFF_RC, its wall time in SVFF_TIME (S.CC)
svff_run() {
	local t0
	t0=$(now)
	SVFF_OUT=$("$@" 2>&1)
	SVFF_RC=$?
	SVFF_TIME=$(elapsed "$t0")
	echo "\$ $* -> exit $SVFF_RC in ${SVFF_TIME}s"
	[[ -n $SVFF_OUT ]] && sed 's/^/    /' <<<"$SVFF_OUT"
	return 0
}

# assert_svff_exit TEXT CODE CMD ARGS...: run an svff program; it must exit with CODE
assert_svff_exit() {
	local text=$1 code=$2
	shift 2
	svff_run "$@"
	assert_eq "$text: exit status" "$code" "$SVFF_RC"
}

# assert_output_has TEXT PATTERN: the last svff program's output contains PATTERN (fixed string)
assert_output_has() {
	if grep -qF -- "$2" <<<"$SVFF_OUT"; then ok "$1"; else fail "$1: no '$2' in the output"; fi
}

# record_file PF K: path of svff's record of the PF's VF index K
record_file() { echo "$SVFF_STATE/records/$1-vf$2.xml"; }

# assignment_file PF K: path of the hook's record of the domain started with the PF's VF index K
assignment_file() { echo "$SVFF_RUNTIME/assigned/$1-vf$2.xml"; }

# record_phase PF K: phase of that record, empty if there is none
record_phase() { sed -n 's:.*<phase>\(.*\)</phase>.*:\1:p' "$(record_file "$1" "$2")" 2>/dev/null; }

# record_count: how many records the state directory holds
record_count() { find "$SVFF_STATE/records" -name '*.xml' 2>/dev/null | wc -l; }

# state_digest: a checksum of every record, to show that a failed command changed nothing
state_digest() { find "$SVFF_STATE/records" -type f -name '*.xml' -exec sha256sum {} + 2>/dev/null | sort | sha256sum; }

# live_hostdev NAME ALIAS: the <hostdev> element with this alias in the domain's live XML
live_hostdev() {
	virsh dumpxml "$1" | awk -v alias="<alias name='$2'/>" '
		/<hostdev / { block = ""; inside = 1 }
		inside { block = block $0 "\n" }
		/<\/hostdev>/ { if (index(block, alias)) printf "%s", block; inside = 0 }'
}

# guest_sees NAME GUEST_BDF: wait until the guest shows the device with the nvme driver bound
guest_sees() {
	guest_wait_device "$1" "$2" nvme 60 ||
		fail "guest $1 does not show $2=nvme within 60s: $(guest_report "$1")"
	ok "guest $1: $2 present, nvme bound (${WAITED}s)"
}

# guest_lost NAME GUEST_BDF: wait until the device is gone from the guest's report
guest_lost() {
	guest_wait_gone "$1" "$2" 60 || fail "guest $1 still shows $2: $(guest_report "$1")"
	ok "guest $1: $2 gone (${WAITED}s)"
}

# numvfs_set PF N: what a PF reconfiguration does to the VFs (numvfs 0, then N, the VFs'
# NVMe controllers online and bound to vfio-pci); prints how long the write of 0 took
numvfs_set() {
	local t0
	t0=$(now)
	write_sysfs 0 "$SYSPCI/$1/sriov_numvfs"
	step "numvfs=0 on $1 took $(elapsed "$t0")s"
	vfs_create "$1" "$2"
	step "numvfs=$2 on $1, VFs online and bound to vfio-pci"
}

# print_status: svff-status's table, for the log
print_status() {
	svff_run svff-status
}

# manage_pf PF: the PF as an admin sets it up for svff: listed in /etc/svff/svff.conf (its
# new VFs are bound to vfio-pci by svff's udev rule, and svff keeps host drivers from probing
# them), and the test bed's site rule that puts a new NVMe VF's secondary controller online
# (what a QDMA or NIC setup rule would do for its VFs). undo_manage_pf removes all of it.
manage_pf() {
	mkdir -p /etc/svff /run/udev/rules.d
	printf '[%s]\ndriver=vfio-pci\n' "$1" >>/etc/svff/svff.conf
	site_online_rule
}

# two_domains_on PF: the PF with 2 VFs, managed by svff; domains web (VF 0) and db (VF 1)
# running, each guest with its VF at 0000:01:00.0 and nvme bound
two_domains_on() {
	vfs_create "$1" 2
	manage_pf "$1"
	domain_launch web "$(vf "$1" 0)@1"
	domain_launch db "$(vf "$1" 1)@1"
	guests_booted web db
	guest_sees web 0000:01:00.0
	guest_sees db 0000:01:00.0
}

# both_back PF: web and db have their VFs again, at the same guest address with nvme bound;
# nothing is left recorded and no journal
both_back() {
	guest_sees web 0000:01:00.0
	guest_sees db 0000:01:00.0
	assert_xml_has_alias web ua-web-0
	assert_xml_has_alias db ua-db-0
	assert_eq "records left" 0 "$(record_count)"
	assert "no journal left" not journal_exists "$1"
}

undo_manage_pf() {
	rm -f /etc/svff/svff.conf /run/udev/rules.d/50-svff-testbed-online.rules
	udevadm control --reload
}


# fault_gate_close: the next stall of a test build's svff program (SVFF_FAULT_STEP=stall:...)
# lasts until fault_gate_open, however slow the host; fault_gate_holds: the program started
# last (its pid in FAULT_GATE_HOLDER) still waits at the closed gate
fault_gate_close() {
	export SVFF_FAULT_GATE=/run/svff-testbed/fault-gate
	rm -f "$SVFF_FAULT_GATE"
}
fault_gate_open() { touch "$SVFF_FAULT_GATE"; }
fault_gate_holds() { [[ ! -e $SVFF_FAULT_GATE ]] && kill -0 "$FAULT_GATE_HOLDER" 2>/dev/null; }

# numvfs PF: the PF's sriov_numvfs
numvfs() { cat "$SYSPCI/$1/sriov_numvfs"; }

# journal_exists PF: an interrupted svff-reconf left its journal
journal_exists() { test -f "$SVFF_STATE/reconf/$1.xml"; }

# ------------------------------------------------------------------ the journal (svff-journal(7))

# journal_cursor: where the journal is now, for journal_since: the cursor of a mark entry
# of the test bed's own, which no match of svff's fields selects
journal_cursor() {
	logger -t svff-testbed-mark "journal mark"
	journalctl --sync
	journalctl -q -n 1 -o export SYSLOG_IDENTIFIER=svff-testbed-mark | sed -n 's/^__CURSOR=//p'
}

# journal_since CURSOR MATCH...: the entries since CURSOR that match (journalctl's
# FIELD=VALUE), one JSON object a line; journald has stored all that was sent before. Not
# --after-cursor: with matches, systemd 252's journalctl skips the first matching entry
# after a cursor that does not match itself
journal_since() {
	local cursor=$1
	shift
	journalctl --sync
	journalctl -q --no-pager --cursor="$cursor" -o json "$@"
}

# json_field NAME: of each JSON line, the string value of field NAME (an empty line if none)
json_field() { sed -e "s/.*\"$1\":\"\([^\"]*\)\".*/\1/" -e t -e 's/.*//'; }

# svff_message_id NAME: the MESSAGE_ID of svff's event NAME (SVFF_VF_DETACHED...), from the
# installed catalog, where each entry stands under "# NAME"
svff_message_id() {
	local id
	id=$(awk -v name="# $1" '$0 == name { getline; print $2; exit }' /usr/lib/systemd/catalog/svff.catalog)
	[[ -n $id ]] || fail "svff's catalog has no $1"
	echo "$id"
}

# journal_vf_events CURSOR PF NAME: svff's entries of event NAME about PF after CURSOR, as
# "DOMAIN=VF@STEP" sorted, on one line
journal_vf_events() {
	local line
	journal_since "$1" SVFF_PF="$2" MESSAGE_ID="$(svff_message_id "$3")" | while read -r line; do
		echo "$(json_field SVFF_DOMAIN <<<"$line")=$(json_field SVFF_VF <<<"$line")@$(json_field SVFF_STEP <<<"$line")"
	done | sort | paste -sd' '
}

# ------------------------------------------------------------------ boot

SVFF_EXIT_DRIFT=18

# boot_conf PF N: svff.conf managing PF (VFs on vfio-pci, autoprobe off) with numvfs=N, which
# svff's boot job applies at every boot
boot_conf() {
	mkdir -p /etc/svff
	printf '[%s]\ndriver=vfio-pci\nnumvfs=%d\n' "$1" "$2" >/etc/svff/svff.conf
}

# assert_boot_job: svff's boot job (svff-apply.service) succeeded at this boot and had finished
# before libvirtd started, so before any domain was autostarted; its journal goes to the log
assert_boot_job() {
	local done_at libvirt_at
	journalctl -b -o short-monotonic --no-pager -u svff-apply.service | sed 's/^/    /'
	assert_eq "svff-apply.service's result" success "$(systemctl show -P Result svff-apply.service)"
	done_at=$(systemctl show -P ExecMainExitTimestampMonotonic svff-apply.service)
	libvirt_at=$(systemctl show -P ExecMainStartTimestampMonotonic "$TB_LIBVIRTD.service")
	assert "svff-apply done at $((done_at / 1000)) ms, before libvirtd started at $((libvirt_at / 1000)) ms" \
		test "$done_at" -gt 0 -a "$done_at" -le "$libvirt_at"
}

# boot_job_said TEXT: svff-apply.service logged TEXT at this boot
boot_job_said() { journalctl -b -q --no-pager -u svff-apply.service | grep -qF -- "$1"; }

# assert_pf_as_conf PF N: the PF has N VFs, each on vfio-pci, autoprobe off, and svff-status
# --check agrees that the host matches svff.conf
assert_pf_as_conf() {
	assert_eq "numvfs of $1" "$2" "$(numvfs "$1")"
	assert "VFs of $1 on vfio-pci" vfs_bound_to_vfio "$1"
	assert_eq "sriov_drivers_autoprobe of $1" 0 "$(cat "$SYSPCI/$1/sriov_drivers_autoprobe")"
	assert_svff_exit "svff-status --check: the host matches svff.conf" 0 svff-status --check
}

# assert_autostarted NAME...: each domain was started by libvirtd at boot, its guest booted (as
# domain_start waits for it) and has its VF at 0000:01:00.0 with nvme bound, alias ua-NAME-0
assert_autostarted() {
	local name
	for name in "$@"; do
		assert_within 60 "domain $name autostarted" domain_running "$name"
		wait_until "$GUEST_BOOT_TIMEOUT" guest_reported "$name" ||
			fail "guest $name did not report within ${GUEST_BOOT_TIMEOUT}s"
		guest_sees "$name" 0000:01:00.0
		assert_xml_has_alias "$name" "ua-$name-0"
	done
}

# bench_boot_to_vf WHAT NAME...: BENCH line with the seconds from the outer kernel's start to
# the first of these autostarted guests having its VF (at 0000:01:00.0, nvme bound)
bench_boot_to_vf() {
	local what=$1 name t first=
	shift
	for name in "$@"; do
		t=$(boot_seconds_to_guest_vf "$name" 0000:01:00.0) || continue
		[[ -z $first ]] || awk -v a="$t" -v b="$first" 'BEGIN { exit !(a < b) }' && first=$t
	done
	echo "BENCH boot-to-guest-vf $what seconds=${first:-unknown} (outer kernel start to the first autostarted guest with its VF bound)"
}

# bench_reconf_cost WHAT: a BENCH line from the last svff-reconf --json: svff's own CPU time and
# its share of the whole reconfiguration's wall time, each step's times beside them
bench_reconf_cost() {
	local what=$1
	awk -v what="$what" -F'[,:{}"]+' '
		/"step":/ {
			for (i = 1; i < NF; i++) v[$i] = $(i + 1)
			line = sprintf("%s=%ss(cpu %ss, children %ss)", v["step"], v["seconds"],
				       v["cpu_seconds"], v["children_cpu_seconds"])
			if (v["step"] == "reconfiguration") {
				total = v["seconds"]; own = v["cpu_seconds"]
			} else steps = steps " " line
		}
		END {
			if (total > 0)
				printf "BENCH reconf-own-cost %s total=%ss svff-cpu=%ss own-share=%.1f%% steps:%s\n",
				       what, total, own, 100 * own / total, steps
			else print "BENCH reconf-own-cost " what " unknown (no reconfiguration line)"
		}' <<<"$SVFF_OUT"
}

# reconf_step_field STEP FIELD: FIELD of STEP's JSON line (the last one) in the output of the
# last svff-reconf --json, as bench_reconf_cost reads them
reconf_step_field() {
	awk -v want="$1" -v field="$2" -F'[,:{}"]+' '
		/"step":/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1); if (v["step"] == want) print v[field] }' \
		<<<"$SVFF_OUT" | tail -n 1
}

# guest_report_count NAME: how many PCI reports the guest has printed so far
guest_report_count() { grep -ac '^SVFF-GUEST pci ' "$TB_LOG/$1.serial" 2>/dev/null || true; }

# bench_guest_downtime WHAT NAME GUEST_BDF DRIVER SINCE: a BENCH line from the guest's own
# reports after its first SINCE: its uptime when the device left it (or lost its driver) and
# when it was back with DRIVER bound, and the time between (the guest reports every change
# within 0.2 s)
bench_guest_downtime() {
	local what=$1 name=$2 bdf=$3 driver=$4 since=$5
	grep -a '^SVFF-GUEST pci ' "$TB_LOG/$name.serial" | tr -d '\r' | tail -n +$((since + 1)) |
		awk -v what="$what" -v name="$name" -v bdf="$bdf" -v driver="$driver" '
			{ up = substr($3, 4); bound = index($0, " " bdf "=" driver ",") > 0 }
			!bound && left == "" { left = up }
			bound && left != "" && back == "" { back = up }
			END {
				printf "BENCH guest-downtime %s guest=%s device=%s(%s) ", what, name, bdf, driver
				if (left == "") print "never left"
				else if (back == "") printf "left at up=%ss, not back\n", left
				else printf "left=%ss back=%ss downtime=%.2fs\n", left, back, back - left
			}'
}
