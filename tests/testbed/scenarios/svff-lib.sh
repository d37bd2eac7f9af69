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
	domain_start web "$(vf "$1" 0)@1"
	domain_start db "$(vf "$1" 1)@1"
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


# numvfs PF: the PF's sriov_numvfs
numvfs() { cat "$SYSPCI/$1/sriov_numvfs"; }

# journal_exists PF: an interrupted svff-reconf left its journal
journal_exists() { test -f "$SVFF_STATE/reconf/$1.xml"; }
