#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 97-qemu-pause: svff's patched QEMU (qemu/) pauses a VF under a running guest. While paused,
# QEMU holds nothing of the host VF: sriov_numvfs=0 returns at once, vfio_pci can be unloaded;
# the VFs come back and QEMU resumes with the new VF through a group fd passed over QMP (getfd),
# as svff does it. The guest's PCI view never changes, and its driver works again afterwards (a
# controller reset in the guest brings the controller back live). Bad requests get a QMP error
# and leave the device as it was. Last, the guest-visible downtime of pause/resume is compared
# with that of detach-device/attach-device for the same device (BENCH lines).
# testbed: needs patched-qemu
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[[ -x $TB_PATCHED_QEMU ]] ||
	fail "the patched QEMU $TB_PATCHED_QEMU is not installed (the host builds it with qemu/build)"
export TB_EMULATOR=$TB_PATCHED_QEMU
ID=ua-guest-0

# qmp JSON [VIRSH-OPTION...]: a QMP command to the domain's QEMU through libvirt; prints QEMU's
# answer on one line (error answers included)
qmp() { virsh qemu-monitor-command guest "${@:2}" "$1" 2>&1 | tr -d '\n'; }

# qmp_ok TEXT JSON [VIRSH-OPTION...]: the command must succeed
qmp_ok() {
	local out
	out=$(qmp "${@:2}")
	[[ $out == *'"return"'* ]] || fail "$1: $out"
	ok "$1"
}

# qmp_err TEXT JSON: the command must fail with a QMP error; prints its message
qmp_err() {
	local out
	out=$(qmp "$2")
	[[ $out == *'"error"'* ]] || fail "$1: expected an error, got: $out"
	ok "$1: $(sed -n 's/.*"desc": *"\([^"]*\)".*/\1/p' <<<"$out")"
}

paused() {
	qmp '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/'"$ID"'","property":"x-paused"}}' |
		sed -n 's/.*"return": *\([a-z]*\).*/\1/p'
}

pause() { qmp '{"execute":"x-vfio-pause","arguments":{"id":"'"$ID"'"}}'; }

# pass_group_fd VF: open the VF's /dev/vfio/N here and hand it to QEMU as "svffgrp" (getfd)
pass_group_fd() {
	local fd out
	exec {fd}<>"/dev/vfio/$(vf_group "$1")" || fail "cannot open the VFIO group of $1"
	out=$(qmp '{"execute":"getfd","arguments":{"fdname":"svffgrp"}}' --pass-fds "$fd")
	exec {fd}<&-
	[[ $out == *'"return"'* ]] || fail "getfd: $out"
}

resume() { qmp '{"execute":"x-vfio-resume","arguments":{"id":"'"$ID"'","host":"'"$1"'","fdname":"svffgrp"}}'; }

# vf_bind_nvme BDF: bind the function to the host's nvme driver
vf_bind_nvme() {
	local dev=$SYSPCI/$1
	write_sysfs nvme "$dev/driver_override"
	[[ -n $(vf_driver "$1") ]] && write_sysfs "$1" "$dev/driver/unbind"
	write_sysfs "$1" /sys/bus/pci/drivers_probe
	wait_until 20 test "$(vf_driver "$1")" = nvme || fail "$1 did not bind to nvme (driver: $(vf_driver "$1"))"
}

# every PCI report of the guest so far shows the device with nvme bound
never_removed() { ! grep -a '^SVFF-GUEST pci ' "$TB_LOG/guest.serial" | grep -qv " $gbdf=nvme,"; }

pf0=$(pf 0)
vfs_create "$pf0" 4
vf0=$(vf "$pf0" 0)
gbdf=0000:01:00.0
domain_start guest --probe "$vf0@1"
guest_wait_device guest "$gbdf" nvme || fail "guest does not show $gbdf=nvme: $(guest_report guest)"
qemu_pid=$(domain_pid guest)
assert_eq "host: $vf0 held by the domain's QEMU" "$qemu_pid" "$(vfio_holder "$vf0")"
assert_eq "emulator" "$TB_PATCHED_QEMU" "$(readlink "/proc/$qemu_pid/exe")"
step "guest: $(guest_report guest)"
out=$(guest_probe guest) || fail "guest probe before the pause: $out"
ok "guest probe before the pause: $out"
assert "query-commands lists x-vfio-pause" grep -q '"x-vfio-pause"' <<<"$(qmp '{"execute":"query-commands"}')"
assert_eq "x-paused" false "$(paused)"

# ---------------------------------------------------------------- bad input, device running
qmp_err "pause of an unknown id" '{"execute":"x-vfio-pause","arguments":{"id":"no-such-dev"}}'
qmp_err "pause of a root port (not vfio-pci)" '{"execute":"x-vfio-pause","arguments":{"id":"pci.1"}}'
qmp_err "resume of a running device" '{"execute":"x-vfio-resume","arguments":{"id":"'"$ID"'"}}'
assert_eq "x-paused after the bad requests" false "$(paused)"
assert_eq "host: $vf0 still held by the domain's QEMU" "$qemu_pid" "$(vfio_holder "$vf0")"

# ---------------------------------------------------------------- pause
t0=$(now)
out=$(pause)
[[ $out == *'"return"'* ]] || fail "x-vfio-pause: $out"
ok "x-vfio-pause returned after $(elapsed "$t0")s"
assert_eq "x-paused" true "$(paused)"
assert_within 5 "host: /dev/vfio/$(vf_group "$vf0") released" vfio_free "$vf0"
qmp_err "second pause" '{"execute":"x-vfio-pause","arguments":{"id":"'"$ID"'"}}'
assert_eq "x-paused after the second pause" true "$(paused)"

t0=$(now)
write_sysfs 0 "$SYSPCI/$pf0/sriov_numvfs"
numvfs0=$(elapsed "$t0")
ok "numvfs=0 with the VF paused returned after ${numvfs0}s"
assert "numvfs=0 returned within 5s" test "${numvfs0%.*}" -lt 5
assert "the VF is gone from the host" not test -e "$SYSPCI/$vf0"

t0=$(now)
err=$(modprobe -r vfio_pci 2>&1) || fail "modprobe -r vfio_pci: $err"
assert "vfio_pci unloaded ($(elapsed "$t0")s)" not test -d /sys/module/vfio_pci
err=$(modprobe vfio_pci 2>&1) || fail "modprobe vfio_pci: $err"
ok "vfio_pci loaded again"

qmp_err "resume to a host device that does not exist" \
	'{"execute":"x-vfio-resume","arguments":{"id":"'"$ID"'","host":"0000:7f:1f.7"}}'
assert_eq "x-paused after it" true "$(paused)"

vfs_create "$pf0" 4
vf0=$(vf "$pf0" 0)
vf1=$(vf "$pf0" 1)
step "VFs back: $(vf_list "$pf0" | tr '\n' ' ')"
vf_bind_nvme "$vf1"
qmp_err "resume to $vf1, bound to nvme" \
	'{"execute":"x-vfio-resume","arguments":{"id":"'"$ID"'","host":"'"$vf1"'"}}'
assert_eq "x-paused after it" true "$(paused)"
assert_eq "guest: PCI view while paused" "$gbdf=nvme" "$(guest_report guest | grep -o " $gbdf=[a-z]*" | tr -d ' ')"

qmp_err "resume with an fdname never passed" \
	'{"execute":"x-vfio-resume","arguments":{"id":"'"$ID"'","host":"'"$vf0"'","fdname":"no-such-fd"}}'
assert_eq "x-paused after it" true "$(paused)"

# ---------------------------------------------------------------- resume with a passed group fd
pass_group_fd "$vf0"
t0=$(now)
out=$(resume "$vf0")
[[ $out == *'"return"'* ]] || fail "x-vfio-resume: $out"
ok "x-vfio-resume to $vf0 returned after $(elapsed "$t0")s"
assert_eq "x-paused" false "$(paused)"
assert_eq "host: $vf0 held by the domain's QEMU" "$qemu_pid" "$(vfio_holder "$vf0")"
out=$(guest_probe guest) || fail "guest probe after the resume: $out"
ok "guest driver works after the resume: $out"
qmp_err "resume of a running device" '{"execute":"x-vfio-resume","arguments":{"id":"'"$ID"'"}}'
assert_eq "x-paused after it" false "$(paused)"
assert "guest: no PCI report ever lacked $gbdf=nvme" never_removed
assert_eq "domain state" running "$(virsh domstate guest)"
step "guest now: $(guest_report guest)"

# ---------------------------------------------------------------- downtime: pause vs detach
# both end when the guest's controller reset through its driver succeeded
t0=$(now)
qmp '{"execute":"query-status"}' >/dev/null
echo "BENCH virsh-qmp-roundtrip $(elapsed "$t0")s (query-status through virsh qemu-monitor-command: the" \
	"overhead in each QMP step below)"
t0=$(now)
out=$(pause)
[[ $out == *'"return"'* ]] || fail "x-vfio-pause: $out"
t_pause=$(elapsed "$t0")
pass_group_fd "$vf0"
t1=$(now)
out=$(resume "$vf0")
[[ $out == *'"return"'* ]] || fail "x-vfio-resume: $out"
t_resume=$(elapsed "$t1")
t1=$(now)
out=$(guest_probe guest) || fail "guest probe after pause/resume: $out"
t_probe=$(elapsed "$t1")
down_pause=$(elapsed "$t0")
assert "guest: no PCI report ever lacked $gbdf=nvme" never_removed
echo "BENCH qemu-pause-resume downtime=${down_pause}s (x-vfio-pause ${t_pause}s, getfd+x-vfio-resume" \
	"${t_resume}s, guest controller reset ${t_probe}s)"

xml=$(hostdev_file guest 0 "$vf0" 1)
t0=$(now)
out=$(virsh detach-device guest "$xml" --live 2>&1) || fail "detach-device: $out"
guest_wait_gone guest "$gbdf" 30 || fail "guest: $gbdf not gone after detach-device"
wait_until 30 vfio_free "$vf0" || fail "host: $vf0 not released after detach-device"
t_detach=$(elapsed "$t0")
t1=$(now)
out=$(virsh attach-device guest "$xml" --live 2>&1) || fail "attach-device: $out"
guest_wait_device guest "$gbdf" nvme 60 || fail "guest: $gbdf not back with nvme after attach-device"
t_attach=$(elapsed "$t1")
t1=$(now)
out=$(guest_probe guest) || fail "guest probe after detach/attach: $out"
t_probe=$(elapsed "$t1")
down_detach=$(elapsed "$t0")
echo "BENCH detach-attach downtime=${down_detach}s (detach-device until gone in the guest and" \
	"released ${t_detach}s, attach-device until nvme bound in the guest ${t_attach}s, guest" \
	"controller reset ${t_probe}s)"
step "guest now: $(guest_report guest)"
