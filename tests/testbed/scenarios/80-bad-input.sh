#!/bin/bash
# 80-bad-input: every error a user can cause gives one line naming the object and the fix,
# its own exit status (see svff-detach(1)), and leaves svff's state as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 2
vf0=$(vf "$pf0" 0)
domain_start vm "$vf0@1"
guest_sees vm 0000:01:00.0
# a PCI function without SR-IOV: the outer VM's first virtio device
plain=$(for d in "$SYSPCI"/*; do [[ -e $d/sriov_totalvfs || -e $d/physfn ]] || { echo "${d##*/}"; break; }; done)

# a detached VF, so that the state directory holds a record to keep intact
assert_svff_exit "detach the VF of vm" 0 svff-detach --domain vm
digest=$(state_digest)

unchanged() { assert_eq "state unchanged" "$digest" "$(state_digest)"; }

assert_svff_exit "malformed BDF" 2 svff-detach --pf 0000:zz:00.0
assert_output_has "names the argument" "'0000:zz:00.0' is not a PCI address"
unchanged
assert_svff_exit "no such device" 3 svff-detach --pf 0000:7f:00.0
assert_output_has "names the device" "no PCI device '0000:7f:00.0'"
assert_svff_exit "device without SR-IOV" 4 svff-detach --pf "$plain"
assert_output_has "names the device" "'$plain' has no SR-IOV"
assert_svff_exit "VF given as PF" 4 svff-detach --pf "$vf0"
assert_output_has "names the VF and its PF" "'$vf0' is a VF of PF '$pf0'"
assert_svff_exit "unknown domain" 5 svff-detach --domain no-such-vm
assert_output_has "names the domain" "no domain 'no-such-vm'"
assert_svff_exit "two selectors" 2 svff-detach --pf "$pf0" --domain vm
assert_svff_exit "unknown option" 2 svff-detach --frobnicate
assert_output_has "points to --help" "Try 'svff-detach --help'."
assert_svff_exit "state dir not writable" 7 svff-detach --pf "$pf0" --state-dir /sys/svff
assert_output_has "names the directory" "'/sys/svff'"
unchanged

exec {lock_fd}>"$(pf_lock "$pf0")"
flock "$lock_fd"
assert_svff_exit "PF locked by another operation" 9 svff-reattach --pf "$pf0"
assert_output_has "names the lock" "'$pf0'"
exec {lock_fd}>&-
unchanged

trap 'systemctl start "${TB_LIBVIRTD_SOCKETS[@]}" "$TB_LIBVIRTD.service"' EXIT
systemctl stop "$TB_LIBVIRTD.service" "${TB_LIBVIRTD_SOCKETS[@]}"
assert_svff_exit "libvirtd not running" 6 svff-reattach --pf "$pf0"
assert_output_has "says to start libvirtd" "is libvirtd running"
systemctl start "${TB_LIBVIRTD_SOCKETS[@]}" "$TB_LIBVIRTD.service"
unchanged

# a record whose VF index is beyond numvfs: kept, with its own status
cp "$(record_file "$pf0" 0)" "$(record_file "$pf0" 3)"
sed -i 's/index="0"/index="3"/' "$(record_file "$pf0" 3)"
assert_svff_exit "recorded VF index that does not exist" 11 svff-reattach --pf "$pf0" --dry-run
assert_output_has "names the VF index" "VF 3 of PF '$pf0'"
rm "$(record_file "$pf0" 3)"

# a corrupt record: reported, never overwritten, the good ones still handled
echo '<svff-record version="1"><pf>' >"$(record_file "$pf0" 1)"
corrupt=$(sha256sum <"$(record_file "$pf0" 1)")
assert_svff_exit "corrupt record" 8 svff-reattach --pf "$pf0"
assert_output_has "names the file" "$(record_file "$pf0" 1)"
assert_eq "corrupt record untouched" "$corrupt" "$(sha256sum <"$(record_file "$pf0" 1)")"
guest_sees vm 0000:01:00.0
rm "$(record_file "$pf0" 1)"

# a record of a domain that no longer exists: removed with a warning, exit 12 (its VF did
# not go back); nothing can take it back, and the state directory does not keep it forever
assert_svff_exit "detach again" 0 svff-detach --domain vm
virsh -q destroy vm && virsh -q undefine vm
assert_svff_exit "record of a vanished domain" 12 svff-reattach
assert_output_has "names the domain" "domain 'vm'"
assert_output_has "says the record is removed" "record(s) are removed"
assert "its record is removed" not test -e "$(record_file "$pf0" 0)"
