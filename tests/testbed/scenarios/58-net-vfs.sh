#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 58-net-vfs: VFs of a NIC (the igb PF) under svff. Domain net-a has an <interface
# type='hostdev'> with its <mac> and VLAN 42, domain net-b a plain <hostdev managed='no'> (svff
# binds its new VFs to vfio-pci; the site rule gives each new VF its MAC, as a NIC's setup rule
# would). svff-reconf 2 -> 4 -> 2 under them: after each step both guests have their NIC back
# at the same guest address with igbvf bound, the PF lists each VF's MAC and VLAN again, the
# guest's igbvf has the MAC the PF gave it, and TCP passes between the host (the PF: net-a
# over a VLAN 42 interface, net-b untagged) and the guest, switched inside the emulated NIC.
# Then records a user broke (a multicast MAC, a VLAN out of range, a VF index that is now
# another kind of device): one line each, the record kept, the other domain undisturbed.
# It takes 4.5 to 7.5 minutes on the bed. Its svff-reconf 2 -> 4 found svff-udev skipping a new
# VF whose last udev event came while svff's numvfs write was still in the kernel.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=svff-lib.sh
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

npf=$(net_pf 0)
dev=$(pf_netdev "$npf") || fail "${dev#FAIL - }"
mac_a=52:54:00:a0:00:42
ip_a=10.42.0.2 ip_b=10.0.0.3

# net_vfs_create PF N: N VFs on the network PF, each with its site MAC, bound to vfio-pci
# (no host driver, igbvf, takes them first)
net_vfs_create() {
	local pf=$1 n=$2 k bdf
	write_sysfs 0 "$SYSPCI/$pf/sriov_numvfs"
	write_sysfs 0 "$SYSPCI/$pf/sriov_drivers_autoprobe"
	write_sysfs "$n" "$SYSPCI/$pf/sriov_numvfs"
	write_sysfs 1 "$SYSPCI/$pf/sriov_drivers_autoprobe"
	for ((k = 0; k < n; k++)); do
		site_net_vf "$(vf "$pf" "$k")" || fail "cannot set the MAC of VF $k of $pf"
	done
	for bdf in $(vf_list "$pf"); do vf_bind_vfio "$bdf"; done
	wait_until 30 vfs_bound_to_vfio "$pf" || fail "VFs of $pf not all bound to vfio-pci within 30s"
}

# guest_nic NAME MAC: the guest shows its NIC at 0000:01:00.0 with igbvf bound and this MAC
guest_nic() { [[ " $(guest_report "$1") " == *" 0000:01:00.0=igbvf,"*",mac=$2 "* ]]; }

# hello_from ADDR MAC: a TCP connection to ADDR is answered by the guest with this MAC
hello_from() { [[ " $(net_tcp_hello "$1") " == *" $2 "* ]]; }

# nic_back NAME K MAC VLAN ADDR: guest NAME has its NIC (the PF's VF index K) back as it was:
# at the same guest address with igbvf bound, the PF lists the VF's MAC and VLAN, the guest's
# igbvf got that MAC from the PF (a made-up one means the PF did not answer it), and the host
# reaches the guest at ADDR
nic_back() {
	local name=$1 k=$2 mac=$3 vlan=$4 addr=$5
	guest_wait_device "$name" 0000:01:00.0 igbvf 60 ||
		fail "guest $name does not show its NIC with igbvf within 60s: $(guest_report "$name")"
	ok "guest $name: 0000:01:00.0 igbvf bound (${WAITED}s)"
	assert_eq "PF lists VF $k" "$mac vlan=$vlan" "$(pf_vf_config "$npf" "$k")"
	wait_until 30 guest_nic "$name" "$mac" ||
		fail "guest $name's NIC has not the MAC $mac its PF gave it within 30s: $(guest_report "$name")"
	ok "guest $name: its NIC has MAC $mac (${WAITED}s)"
	assert_within 30 "TCP from the host reaches guest $name at $addr and back" hello_from "$addr" "$mac"
}

both_nics_back() {
	nic_back net-a 0 "$mac_a" 42 "$ip_a"
	nic_back net-b 1 "$(site_vf_mac "$npf" 1)" 0 "$ip_b"
}

# the host's side of the wire: the PF up, untagged 10.0.0.1, VLAN 42 10.42.0.1
ip link set dev "$dev" up
ip addr add 10.0.0.1/24 dev "$dev"
ip link add link "$dev" name vlan42 type vlan id 42
ip addr add 10.42.0.1/24 dev vlan42
ip link set dev vlan42 up

net_vfs_create "$npf" 2
manage_pf "$npf"
step "both guests boot at once"
# virsh start returns once QEMU has mapped the guest's memory for its VF: slow here, so
# both at once
domain_launch net-a --ip "$ip_a/24" "$(vf "$npf" 0)@1@mac=$mac_a,vlan=42" &
start_a=$!
domain_launch net-b --ip "$ip_b/24" "$(vf "$npf" 1)@1@managed=no" &
wait "$start_a" || fail "starting net-a failed"
wait "$!" || fail "starting net-b failed"
guests_booted net-a net-b
both_nics_back

assert_svff_exit "numvfs 2 -> 4" 0 svff-reconf --pf "$npf" --numvfs 4
assert_eq "numvfs" 4 "$(numvfs "$npf")"
assert "the new VFs are on vfio-pci (svff.conf), not igbvf" vfs_bound_to_vfio "$npf"
both_nics_back
assert_svff_exit "numvfs 4 -> 2" 0 svff-reconf --pf "$npf" --numvfs 2
assert_eq "numvfs" 2 "$(numvfs "$npf")"
both_nics_back
assert_eq "records left" 0 "$(record_count)"

# ---------------------------------------------------------------- records a user broke
rec=$(record_file "$npf" 0)
# record_digest FILE: checksum of a record but for its phase (an attempt to attach changes it)
record_digest() { sed 's:<phase>[a-z-]*</phase>::' "$1" | sha256sum; }

# error_lines: the lines of the last svff program's output that are no progress report
error_lines() { grep -vE 'record\(s\) of [0-9]+ domain\(s\) handled|no recorded VF' <<<"$SVFF_OUT" | grep -c .; }

# bad_record TEXT SED WORD: net-a's record edited with SED; svff-reattach refuses it in one
# line naming the domain and WORD, keeps the record as edited, and net-b keeps its NIC
bad_record() {
	local text=$1 edit=$2 word=$3 digest
	assert_svff_exit "detach net-a" 0 svff-detach --domain net-a
	sed -i "$edit" "$rec"
	grep -qF -- "$word" "$rec" || fail "the edit of $rec did not apply: $(cat "$rec")"
	digest=$(record_digest "$rec")
	assert_svff_exit "$text" "$SVFF_EXIT_LIBVIRT" svff-reattach --domain net-a
	assert_output_has "names the domain" "domain 'net-a'"
	assert_output_has "names what is wrong" "$word"
	assert_eq "one line" 1 "$(error_lines)"
	assert_eq "the record is kept, as edited" "$digest" "$(record_digest "$rec")"
	nic_back net-b 1 "$(site_vf_mac "$npf" 1)" 0 "$ip_b"
}
SVFF_EXIT_LIBVIRT=6

bad_record "a multicast MAC in the record" "s/$mac_a/01:00:5e:00:00:42/" 01:00:5e:00:00:42
sed -i "s/01:00:5e:00:00:42/$mac_a/" "$rec"
assert_svff_exit "the mended record goes back" 0 svff-reattach --domain net-a
nic_back net-a 0 "$mac_a" 42 "$ip_a"

bad_record "a VLAN out of range in the record" "s/<tag id=\"42\"\/>/<tag id=\"5000\"\/>/; s/<tag id='42'\/>/<tag id='5000'\/>/" 5000
sed -i "s/id=\"5000\"/id=\"42\"/; s/id='5000'/id='42'/" "$rec"
assert_svff_exit "the mended record goes back" 0 svff-reattach --domain net-a
nic_back net-a 0 "$mac_a" 42 "$ip_a"

# VF 0 of an NVMe PF in net-a's record: the VF index now names another kind of device
pf0=$(pf 0)
vfs_create "$pf0" 1
assert_svff_exit "detach net-a" 0 svff-detach --domain net-a
other=$(record_file "$pf0" 0)
sed -e "s|<pf>$npf</pf>|<pf>$pf0</pf>|" -e "s/address=\"$(vf "$npf" 0)\"/address=\"$(vf "$pf0" 0)\"/" \
	-e "s/address='$(vf "$npf" 0)'/address='$(vf "$pf0" 0)'/" "$rec" >"$other"
rm "$rec"
digest=$(record_digest "$other")
assert_svff_exit "a VF index that is now an NVMe VF" 11 svff-reattach --pf "$pf0"
assert_output_has "names the VF, the domain and both kinds" \
	"VF 0 of PF '$pf0' (for domain 'net-a') is another kind of device now (PCI class 0x010802, 0x020000 when recorded)"
assert_eq "one line" 1 "$(error_lines)"
assert_eq "the record is kept as it was" "$digest" "$(record_digest "$other")"
assert "net-a got no NVMe VF" not guest_has_device net-a 0000:01:00.0
nic_back net-b 1 "$(site_vf_mac "$npf" 1)" 0 "$ip_b"
print_status
