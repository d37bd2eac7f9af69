#!/bin/bash
# 94-hook-guard: the libvirt hook never holds libvirtd up and stays out of what is not
# svff's business. (a) `virsh start` of a domain with a VF of the PF, racing a real
# svff-reconf held at each of its steps (the test build's stall switch, held until the
# scenario opens its gate), fails with svff's message while svff-reconf still holds, and
# `virsh list` answers meanwhile; afterwards it starts. (b) With a
# broken svff.conf, a domain passing through a device that is no VF (the second NVMe
# controller) starts, with a warning in the journal; one with a managed VF does not, told
# the file and line. (c) A world-writable or symlinked state directory is refused by every
# program, the hook included (for managed VFs only), without stalling libvirtd. (d) svff
# sets sriov_drivers_autoprobe as svff.conf says before VFs appear.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
# PF 1 goes to a guest whole: its NVMe controller's flexible resources must be given to
# its VFs again before another scenario enables them (see pf_release_flexible)
trap 'restore_state_dir; undo_manage_pf; rm -f "/run/svff-testbed/flexible-released-$pf1"; jobs -p | xargs -r kill 2>/dev/null' EXIT

pf0=$(pf 0)
pf1=$(pf 1)
vfs_create "$pf0" 2
manage_pf "$pf0"
domain_start web "$(vf "$pf0" 0)@1"
guest_sees web 0000:01:00.0
domain_xml c "console=ttyS0 panic=-1" 2 "$(hostdev_xml c 0 "$(vf "$pf0" 1)" 1)" >/run/svff-testbed/c.xml
virsh -q define /run/svff-testbed/c.xml >/dev/null
domain_xml plain "console=ttyS0 panic=-1" 2 "$(hostdev_xml plain 0 "$pf1" 1)" >/run/svff-testbed/plain.xml
virsh -q define /run/svff-testbed/plain.xml >/dev/null

restore_state_dir() {
	if [[ -L $SVFF_STATE ]]; then rm -f "$SVFF_STATE" && mv "$SVFF_STATE.real" "$SVFF_STATE"; fi
	[[ -d $SVFF_STATE ]] && chmod 0700 "$SVFF_STATE"
	return 0
}

# start_fails_fast NAME TEXT: virsh start NAME fails with TEXT in its message. While an
# svff-reconf is held at a closed gate (fault_gate_close), it fails while that one still
# holds: a hook that waited for the reconfiguration would not return before the gate opens.
start_fails_fast() {
	local t0 out
	t0=$(now)
	if out=$(timeout 120 virsh start "$1" 2>&1); then fail "$1 started"; fi
	ok "virsh start $1 failed ($(elapsed "$t0")s)"
	[[ -z ${FAULT_GATE_HOLDER:-} ]] || assert "... while svff-reconf still holds" fault_gate_holds
	assert "the message says: $2" grep -qF "$2" <<<"$out"
}

# list_answers: virsh list answers (while svff-reconf holds, if one was started)
list_answers() {
	local t0
	t0=$(now)
	assert "virsh list answers" quietly timeout 120 virsh -q list
	step "virsh list took $(elapsed "$t0")s"
	[[ -z ${FAULT_GATE_HOLDER:-} ]] || assert "... while svff-reconf still holds" fault_gate_holds
}

step "(d) before svff touched the PF, autoprobe is the host's default"
assert_eq "sriov_drivers_autoprobe" 1 "$(cat "$SYSPCI/$pf0/sriov_drivers_autoprobe")"

target=3
for stage in plan detach disable program enable reattach; do
	step "(a) virsh start racing svff-reconf held at '$stage'"
	fault_gate_close
	SVFF_FAULT_STEP=stall:$stage svff-reconf --pf "$pf0" --numvfs "$target" \
		>/run/svff-testbed/race.log 2>&1 &
	FAULT_GATE_HOLDER=$!
	assert_within 60 "svff-reconf is held at '$stage'" \
		grep -qF "at step '$stage'" /run/svff-testbed/race.log
	start_fails_fast c "PF '$pf0' is being reconfigured"
	list_answers
	fault_gate_open
	wait "$FAULT_GATE_HOLDER"
	assert_eq "svff-reconf held at '$stage': exit status" 0 "$?"
	FAULT_GATE_HOLDER=
	guest_sees web 0000:01:00.0
	target=$((target == 3 ? 2 : 3))
done
assert_eq "(d) svff set sriov_drivers_autoprobe as svff.conf says" 0 \
	"$(cat "$SYSPCI/$pf0/sriov_drivers_autoprobe")"
assert "once svff-reconf is done, c starts" virsh -q start c
virsh -q destroy c >/dev/null

step "(b) a broken svff.conf"
cp /etc/svff/svff.conf /run/svff-testbed/svff.conf.good
echo "numvfs=two" >>/etc/svff/svff.conf
since=$(date '+%Y-%m-%d %H:%M:%S')
assert "a domain with no VF (the other NVMe controller) starts" virsh -q start plain
assert_within 10 "the journal has svff's warning" \
	eval "journalctl -q -t svff-qemu-hook --since '$since' | grep -qF \"domain 'plain' has no SR-IOV VF\""
start_fails_fast c "svff.conf: line"
list_answers
cp /run/svff-testbed/svff.conf.good /etc/svff/svff.conf
virsh -q destroy plain >/dev/null

step "(c) a world-writable state directory"
chmod 0777 "$SVFF_STATE"
assert_svff_exit "svff-status refuses it" 7 svff-status
assert_output_has "names the directory and why" "'$SVFF_STATE' is group- or world-writable"
start_fails_fast c "is group- or world-writable"
assert "a domain with no managed VF starts" virsh -q start plain
list_answers
virsh -q destroy plain >/dev/null
chmod 0700 "$SVFF_STATE"

step "(c) a symlinked state directory"
mv "$SVFF_STATE" "$SVFF_STATE.real"
ln -s "$SVFF_STATE.real" "$SVFF_STATE"
assert_svff_exit "svff-reattach refuses it" 7 svff-reattach --pf "$pf0"
assert_output_has "says it is a symbolic link" "is a symbolic link"
start_fails_fast c "is a symbolic link"
list_answers
restore_state_dir
assert "with the state directory back, c starts" virsh -q start c
