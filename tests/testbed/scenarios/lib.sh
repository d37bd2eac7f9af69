# shellcheck shell=bash
# tests/testbed/scenarios/lib.sh - helpers for the svff test bed scenarios.
#
# A scenario is tests/testbed/scenarios/NN-name.sh, run by bash as root inside the outer VM, one
# at a time, on a clean host (no domains, no VFs, no /var/lib/svff). It sources this file, prints
# "ok - ..." / "FAIL - ..." lines through the assertions below and fails by exiting non-zero
# (every failing assertion exits at once). Times are measured in centiseconds since boot.
#
# Inner guests print their view of the PCI bus on their serial console (see vm/guest-init):
#   SVFF-GUEST pci up=SECS 0000:01:00.0=nvme,1b36:0010 0000:02:00.0=igbvf,8086:10ca,mac=MAC ... nvme=COUNT

SYSPCI=/sys/bus/pci/devices
SVFF_SCENARIOS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_LIB=/usr/local/lib/svff-testbed
TB_LOG=/var/log/svff-testbed
GUEST_KERNEL=$TB_LIB/vmlinux
GUEST_INITRD=$TB_LIB/guest-initramfs.cpio.gz
# seconds per guest booting: at a host load of 10 to 14 a Debian 13 guest reported only after
# 157 s of its own uptime, and the other of the pair not within the 240 s then allowed for two
GUEST_BOOT_TIMEOUT=240
# kernel log level of the inner guests (raise it to see their kernel messages in the serial log)
GUEST_LOGLEVEL=${GUEST_LOGLEVEL:-4}
# the QEMU of the inner domains (their <emulator>); svff's patched QEMU (qemu/), when the host
# built it, is installed as TB_PATCHED_QEMU
TB_EMULATOR=${TB_EMULATOR:-/usr/bin/qemu-system-x86_64}
# shellcheck disable=SC2034 # used by the runner and the scenarios
TB_PATCHED_QEMU=/usr/bin/qemu-system-x86_64-svff
# svff's Debian package as the host built it, which the runner installs, and (for scenarios
# marked "# testbed: needs upgrade-deb") a second build of it with a higher version
# shellcheck disable=SC2034 # used by the runner and the scenarios
TB_DEB_DIR=$(dirname "$SVFF_SCENARIOS")/deb TB_DEB_UPGRADE_DIR=$(dirname "$SVFF_SCENARIOS")/deb-upgrade

# TB_LIBVIRTD, TB_LIBVIRTD_SOCKETS: the libvirt daemon that runs the QEMU domains, and its
# sockets, which the runner and the scenarios start, stop, restart and reload by these names.
# Both stacks have the monolithic libvirtd: Debian 12's and Debian 13's libvirt-daemon-system
# depend on libvirt-daemon, whose postinst enables libvirtd.service and libvirtd.socket,
# libvirtd-ro.socket and libvirtd-admin.socket. A host that enabled libvirt's modular daemons
# instead has virtqemud with sockets of the same pattern (svff's package handles both). Told
# apart by the enablement links, without a fork: udev's site rule sources this file per event.
if [[ -e /etc/systemd/system/sockets.target.wants/virtqemud.socket &&
	! -e /etc/systemd/system/sockets.target.wants/libvirtd.socket ]]; then
	TB_LIBVIRTD=virtqemud
else
	TB_LIBVIRTD=libvirtd
fi
# shellcheck disable=SC2034 # used by the runner and the scenarios
TB_LIBVIRTD_SOCKETS=("$TB_LIBVIRTD.socket" "$TB_LIBVIRTD-ro.socket" "$TB_LIBVIRTD-admin.socket")

# tb_apt ARGS...: apt ARGS as an admin runs it (apt install FILE.deb, apt remove svff), without
# questions; the outer VM has no network: the packages' dependencies are in its image
tb_apt() { DEBIAN_FRONTEND=noninteractive timeout -k 10 300 apt -y "$@"; }

# svff_package_status: dpkg's status and version of svff ("installed 0.1.0", "config-files
# 0.1.0"), "not-installed" when dpkg knows none
svff_package_status() { dpkg-query -W -f '${db:Status-Status} ${Version}' svff 2>/dev/null || echo not-installed; }

# ------------------------------------------------------------------ time and progress

# now: centiseconds since boot (an integer; read from /proc/uptime without forking)
now() {
	local up
	read -r up _ </proc/uptime
	echo $((10#${up/./}))
}

# elapsed T0: seconds since T0 (a value of now), as S.CC
elapsed() { centis_to_secs $(($(now) - $1)); }

# centis_to_secs CS: CS centiseconds as S.CC
centis_to_secs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

SCENARIO_T0=$(now)

# step TEXT: a progress line stamped with the time since the scenario started
step() { echo "[+$(elapsed "$SCENARIO_T0")s] $*"; }

# wait_until TIMEOUT CMD...: run CMD until it succeeds (status 0) or TIMEOUT seconds passed
# (status 1), after 0.1 s, 0.2 s, then every 0.5 s: each check forks programs on the outer
# VM's one CPU, which its inner guests share: a long wait at 0.1 s takes CPU they need (to
# boot, to bind a VF). WAITED holds the seconds it took, as S.CC.
wait_until() {
	local timeout_cs=$(($1 * 100)) t0 pause=0.1
	shift
	t0=$(now)
	until "$@" >/dev/null 2>&1; do
		if (($(now) - t0 > timeout_cs)); then
			WAITED=$(elapsed "$t0")
			return 1
		fi
		sleep "$pause"
		case $pause in 0.1) pause=0.2 ;; *) pause=0.5 ;; esac
	done
	WAITED=$(elapsed "$t0")
}

# ------------------------------------------------------------------ assertions

# ok TEXT: report a passed check
ok() { echo "ok - $*"; }

# fail TEXT: report a failed check and end the scenario with a failure
fail() {
	echo "FAIL - $*"
	exit 1
}

# assert TEXT CMD...: CMD must succeed
assert() {
	local text=$1
	shift
	if "$@"; then ok "$text"; else fail "$text"; fi
}

# quietly CMD...: CMD with its output dropped (for assert: its own verdict line must stay)
quietly() { "$@" >/dev/null 2>&1; }

# not CMD...: succeeds when CMD fails (for assert/wait_until: assert "gone" not test -e FILE)
not() { ! "$@"; }

# assert_eq TEXT EXPECTED ACTUAL: the two strings must be equal
assert_eq() {
	if [[ $2 == "$3" ]]; then ok "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi
}

# assert_within TIMEOUT TEXT CMD...: CMD must succeed within TIMEOUT seconds (prints the time)
assert_within() {
	local timeout=$1 text=$2
	shift 2
	if wait_until "$timeout" "$@"; then ok "$text (${WAITED}s)"; else fail "$text (not within ${timeout}s)"; fi
}

# ------------------------------------------------------------------ PFs and VFs

# pf_list [nvme|net|all]: BDFs of the SR-IOV capable PCI functions (sriov_totalvfs > 0), sorted:
# the NVMe controllers (the default; pf 0 and pf 1), the Ethernet controllers (the igb NIC;
# net_pf 0) or all of them
pf_list() {
	local kind=${1:-nvme} dev class
	for dev in "$SYSPCI"/*; do
		[[ -f $dev/sriov_totalvfs && $(<"$dev/sriov_totalvfs") -gt 0 ]] || continue
		class=$(<"$dev/class")
		case $kind in
		nvme) [[ $class == 0x0108* ]] ;;
		net) [[ $class == 0x0200* ]] ;;
		all) true ;;
		esac && echo "${dev##*/}"
	done
}

# pf N: BDF of NVMe PF number N (0-based, in pf_list order)
pf() { pf_of_kind nvme "$1"; }

# net_pf N: BDF of network PF number N (0-based: the igb NIC is net_pf 0)
net_pf() { pf_of_kind net "$1"; }

pf_of_kind() {
	local pfs
	mapfile -t pfs < <(pf_list "$1")
	[[ -n ${pfs[$2]:-} ]] || fail "there is no $1 PF number $2 (PFs: ${pfs[*]})"
	echo "${pfs[$2]}"
}

# vf PF K: BDF of the PF's VF index K (through the PF's virtfnK link)
vf() {
	local link
	link=$(readlink "$SYSPCI/$1/virtfn$2") || return 1
	echo "${link##*/}"
}

# vf_list PF: BDFs of the PF's VFs, in VF index order
vf_list() {
	local k=0
	while [[ -e $SYSPCI/$1/virtfn$k ]]; do
		vf "$1" "$k"
		k=$((k + 1))
	done
}

# vf_driver BDF: name of the driver bound to the function, empty if none
vf_driver() {
	local link
	link=$(readlink "$SYSPCI/$1/driver") && echo "${link##*/}"
}

# vf_group BDF: the function's IOMMU group number
vf_group() {
	local link
	link=$(readlink "$SYSPCI/$1/iommu_group") && echo "${link##*/}"
}

# vfio_holder BDF: pid(s) of the processes holding /dev/vfio/<group of BDF> open; empty if none
vfio_holder() {
	local group
	group=$(vf_group "$1") || return 0
	vfio_group_holders "$group"
}

# vfio_group_holders [GROUP]: pids holding /dev/vfio/GROUP open (any group by default),
# space-separated; one find instead of a readlink per fd: forks are slow in the emulated VM
vfio_group_holders() {
	find /proc/[0-9]*/fd -maxdepth 1 -lname "/dev/vfio/${1:-[0-9]*}" 2>/dev/null |
		cut -d/ -f3 | sort -un | paste -sd' '
}

# vf_vfio_cdev BDF: the VF's VFIO device cdev, /dev/vfio/devices/vfioX; nothing on a kernel
# without it (Linux before 6.6, or CONFIG_VFIO_DEVICE_CDEV off: Debian 12's 6.1 and 13's 6.12)
vf_vfio_cdev() {
	local dev=("$SYSPCI/$1"/vfio-dev/vfio*/dev)
	if [[ -e ${dev[0]} ]]; then
		dev=${dev[0]%/dev}
		echo "/dev/vfio/devices/${dev##*/}"
	fi
}

# node_held_by NODE PID: PID has NODE open
node_held_by() { [[ -n $(find "/proc/$2/fd" -maxdepth 1 -lname "$1" 2>/dev/null) ]]; }

# vfio_held_by BDF PID: /dev/vfio/<group of BDF> is held open by PID and nobody else
vfio_held_by() { [[ $(vfio_holder "$1") == "$2" ]]; }

# vfio_free BDF: nobody holds /dev/vfio/<group of BDF> open
vfio_free() { [[ -z $(vfio_holder "$1") ]]; }

# pf_nvme PF: the PF's NVMe character device (/dev/nvmeX) on this host
pf_nvme() {
	local ctrl=("$SYSPCI/$1"/nvme/nvme*)
	[[ -e ${ctrl[0]} ]] || fail "PF $1 has no NVMe controller on the host (driver: $(vf_driver "$1"))"
	echo "/dev/${ctrl[0]##*/}"
}

# pf_netdev PF: the network interface of a network PF (or of a VF bound to a host driver)
pf_netdev() {
	local net=("$SYSPCI/$1"/net/*)
	[[ -e ${net[0]} ]] || fail "$1 has no network interface on the host (driver: $(vf_driver "$1"))"
	echo "${net[0]##*/}"
}

# net_pf_reset PF: the network PF as at boot: no VLAN interfaces on it, no addresses, down
net_pf_reset() {
	local dev vlan
	dev=$(pf_netdev "$1") || return 0
	for vlan in $(ip -o link show type vlan | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
		ip link del "$vlan" 2>/dev/null
	done
	ip addr flush dev "$dev" 2>/dev/null
	ip link set dev "$dev" down 2>/dev/null
}

# pf_vf_config PF K: "MAC vlan=VLAN" of the PF's VF index K, as the PF's driver reports it
# (ip link show of the PF; vlan=0 when it has none), empty if the PF lists no such VF
pf_vf_config() {
	ip link show dev "$(pf_netdev "$1")" | awk -v k="$2" '
		$1 == "vf" && $2 == k {
			mac = $4; vlan = 0
			for (i = 5; i <= NF; i++) if ($i == "vlan") { vlan = $(i + 1); sub(/,$/, "", vlan) }
			sub(/,$/, "", mac)
			print mac " vlan=" vlan
		}'
}

# site_vf_mac PF K: the MAC the test bed's site rule gives the network PF's VF index K
site_vf_mac() { printf '52:54:00:5f:%02x:%02x\n' "$((16#${1:5:2}))" "$(($2 + 1))"; }

# site_net_vf VF: what a NIC's site rule does for a new VF: its MAC set through the PF
site_net_vf() {
	local pf k
	pf=$(vf_pf "$1")
	k=$(vf_index_of "$1")
	[[ -n $k ]] || return 1
	ip link set dev "$(pf_netdev "$pf")" vf "$k" mac "$(site_vf_mac "$pf" "$k")"
}

# net_tcp_hello ADDR: connect to a guest's TCP server (vm/guest-init, svff.ip) and print its
# one-line answer ("SVFF-GUEST hello MAC..."); fails after 10 s without one
net_tcp_hello() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/7777" && IFS= read -r line <&3 && echo "$line"' _ "$1" 2>/dev/null
}

# write_sysfs VALUE FILE: write VALUE to FILE, failing the scenario with the error if refused
write_sysfs() {
	local err
	err=$( { echo "$1" >"$2"; } 2>&1) || fail "writing $1 to $2: ${err##*: }"
}

# pf_release_flexible PF: take the flexible queue/interrupt resources away from the primary
# controller so they can go to the VFs' secondary controllers; it takes effect on a function
# level reset of the PF, done once per boot (with no VFs enabled)
pf_release_flexible() {
	local mark=/run/svff-testbed/flexible-released-$1 nvme
	[[ -e $mark ]] && return
	nvme=$(pf_nvme "$1")
	nvme virt-mgmt "$nvme" -c 0 -r 1 -a 1 -n 0 >/dev/null || fail "releasing VI resources of $1"
	nvme virt-mgmt "$nvme" -c 0 -r 0 -a 1 -n 0 >/dev/null || fail "releasing VQ resources of $1"
	write_sysfs 1 "$SYSPCI/$1/reset"
	wait_until 30 test -e "$SYSPCI/$1/nvme" || fail "PF $1 did not come back after its reset"
	mkdir -p /run/svff-testbed
	touch "$mark"
}

# secondary_list PF: the PF's NVMe secondary controllers, one line each: SCID VFN STATE NVQ NVI
# (STATE online/offline). Decoded from the binary Secondary Controller List (NVMe base spec:
# 32-byte header, then 32-byte entries: SCID u16, PCID u16, SCS u8, 3 reserved, VFN u16,
# NVQ u16, NVI u16), because nvme-cli's text and JSON output leave the entries out.
secondary_list() {
	nvme list-secondary "$(pf_nvme "$1")" -o binary 2>/dev/null | od -An -v -tu1 -w32 |
		awk 'NR > 1 && NF == 32 && ($1 || $2) {
			printf "%d %d %s %d %d\n", $1 + 256 * $2, $9 + 256 * $10, ($5 % 2) ? "online" : "offline",
				$11 + 256 * $12, $13 + 256 * $14 }'
}

# vfs_online PF: bring every existing VF's NVMe secondary controller online (1 interrupt and 2
# queues from the flexible pool each) so an nvme driver can bind to the VF; controllers that
# are already online are left alone. QEMU sets them offline whenever the VFs are disabled.
vfs_online() {
	local k=0
	while [[ -e $SYSPCI/$1/virtfn$k ]]; do
		vf_index_online "$1" "$k"
		k=$((k + 1))
	done
}

# vf_pf VF: the VF's PF, through its physfn link
vf_pf() { basename "$(readlink "$SYSPCI/$1/physfn")"; }

# vf_index_of VF: the VF's index among its PF's VFs (empty if it is none of them)
vf_index_of() { vf_list "$(vf_pf "$1")" | grep -nx -- "$1" | { IFS=: read -r n _ && echo $((n - 1)); }; }

# secondary_of PF K: "SCID STATE" of the secondary controller behind the PF's VF index K
secondary_of() { secondary_list "$1" | awk -v vfn=$(($2 + 1)) '$2 == vfn { print $1, $3 }'; }

# vf_index_online PF K: the secondary controller of the PF's VF index K online
vf_index_online() {
	local pf=$1 k=$2 nvme scid state
	nvme=$(pf_nvme "$pf")
	read -r scid state < <(secondary_of "$pf" "$k")
	[[ -n $scid ]] || fail "no secondary controller for VF $k of $pf"
	[[ $state == online ]] && return
	nvme virt-mgmt "$nvme" -c "$scid" -r 1 -a 8 -n 1 >/dev/null &&
		nvme virt-mgmt "$nvme" -c "$scid" -r 0 -a 8 -n 2 >/dev/null &&
		nvme virt-mgmt "$nvme" -c "$scid" -r 0 -a 9 -n 0 >/dev/null ||
		fail "cannot bring secondary controller $scid (VF $k of $pf) online"
}

# site_online_log VF ACTION: vf_index_online for the VF (site_net_vf for a network VF), its
# outcome and time appended to $TB_LOG/site-rule.log
site_online_log() {
	local t0 out rc=0 pf k state=
	t0=$(now)
	pf=$(vf_pf "$1")
	k=$(vf_index_of "$1")
	if [[ -z $k ]]; then
		out="$1 is no VF of $pf" rc=1
	elif [[ $(<"$SYSPCI/$pf/class") == 0x0200* ]]; then
		out=$(site_net_vf "$1" 2>&1) || rc=$?
		echo "$(now) $2 $1: rc=$rc in $(elapsed "$t0")s $(pf_vf_config "$pf" "$k") $out" >>"$TB_LOG/site-rule.log"
		return
	else
		out=$(vf_index_online "$pf" "$k" 2>&1) || rc=$?
		state=$(secondary_of "$pf" "$k" | cut -d' ' -f2)
	fi
	echo "$(now) $2 $1: rc=$rc in $(elapsed "$t0")s state=${state:-none} $out" >>"$TB_LOG/site-rule.log"
}

# site_online_rule [DELAY]: the test bed's own udev site rule, as a QDMA or NIC setup rule
# would prepare new VFs before systemd acts on them: each new NVMe VF's secondary controller
# goes online, each new network VF gets its MAC (site_vf_mac) through its PF (after DELAY
# seconds, default 0: a slow site).
site_online_rule() {
	site_rule_write /run/udev/rules.d "sleep ${1:-0}; . $SVFF_SCENARIOS/lib.sh"
	udevadm control --reload
}

# site_rule_write DIR PRELUDE: the site rule in DIR, running PRELUDE (which sources lib.sh)
# before site_online_log. The kernel announces a VF with "add", which may come before its
# physfn link exists, and with "change" once it does: the rule acts once per VF, on the first
# event that has the link (the VF's udev database remembers it and goes when the VF does).
site_rule_write() {
	mkdir -p "$1"
	cat >"$1/50-svff-testbed-online.rules" <<-RULES
		SUBSYSTEM!="pci", GOTO="svff_testbed_online_end"
		ACTION!="add|change", GOTO="svff_testbed_online_end"
		TEST!="physfn", GOTO="svff_testbed_online_end"
		ACTION=="change", IMPORT{db}="SVFF_TESTBED_ONLINE"
		ENV{SVFF_TESTBED_ONLINE}=="1", GOTO="svff_testbed_online_end"
		ENV{SVFF_TESTBED_ONLINE}="1", RUN+="/bin/bash -c '$2; site_online_log %k \$env{ACTION}'"
		LABEL="svff_testbed_online_end"
	RULES
}

# vf_bind_vfio BDF: bind the function to vfio-pci (driver_override, unbind, drivers_probe)
vf_bind_vfio() {
	local dev=$SYSPCI/$1 driver
	[[ $(vf_driver "$1") == vfio-pci ]] && return
	write_sysfs vfio-pci "$dev/driver_override"
	driver=$(vf_driver "$1")
	[[ -n $driver ]] && write_sysfs "$1" "$dev/driver/unbind"
	write_sysfs "$1" /sys/bus/pci/drivers_probe
}

# vfs_bound_to_vfio PF: every VF of the PF is bound to vfio-pci and has its /dev/vfio node
vfs_bound_to_vfio() {
	local bdf
	for bdf in $(vf_list "$1"); do
		[[ $(vf_driver "$bdf") == vfio-pci && -c /dev/vfio/$(vf_group "$bdf") ]] || return 1
	done
}

# vfs_create PF N: N VFs on the PF (numvfs 0 first), their secondary controllers online,
# each bound to vfio-pci; waits (30 s deadline) until all of them have their /dev/vfio node
vfs_create() {
	local pf=$1 n=$2 bdf
	write_sysfs 0 "$SYSPCI/$pf/sriov_numvfs"
	pf_release_flexible "$pf"
	# no host driver grabs the VFs while their controllers are still offline
	write_sysfs 0 "$SYSPCI/$pf/sriov_drivers_autoprobe"
	write_sysfs "$n" "$SYSPCI/$pf/sriov_numvfs"
	write_sysfs 1 "$SYSPCI/$pf/sriov_drivers_autoprobe"
	vfs_online "$pf"
	for bdf in $(vf_list "$pf"); do vf_bind_vfio "$bdf"; done
	wait_until 30 vfs_bound_to_vfio "$pf" || fail "VFs of $pf not all bound to vfio-pci within 30s"
}

# ------------------------------------------------------------------ inner domains

# guest_virt_type: libvirt domain type for inner guests: kvm with /dev/kvm, qemu (TCG) otherwise
guest_virt_type() { if [[ -c /dev/kvm ]]; then echo kvm; else echo qemu; fi; }

# guest_bus BUS: a guest bus number (1, 01, 0x01) as libvirt's 0xNN
guest_bus() { printf '0x%02x' $((16#${1#0x})); }

# hostdev_xml NAME K VF_BDF GUEST_BUS [OPTIONS]: the <hostdev> of the domain's K-th VF (alias
# ua-NAME-K, guest address GUEST_BUS:00.0); the same XML is used to define, detach and attach
# it. OPTIONS, comma-separated: managed=no; mac=MAC (an <interface type='hostdev'> with this
# <mac> instead: a network VF), vlan=TAG (its <vlan>)
hostdev_xml() {
	local d b s f opt opts=${5:-} managed=yes mac='' vlan='' element=hostdev
	IFS=':.' read -r d b s f <<<"$3"
	for opt in ${opts//,/ }; do
		case $opt in
		managed=*) managed=${opt#managed=} ;;
		mac=*) mac=${opt#mac=} element=interface ;;
		vlan=*) vlan=${opt#vlan=} ;;
		*) fail "hostdev_xml: unknown option '$opt'" ;;
		esac
	done
	if [[ $element == interface ]]; then
		echo "<interface type='hostdev' managed='$managed'>"
		echo "  <mac address='$mac'/>"
		echo "  <source><address type='pci' domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/></source>"
		[[ -n $vlan ]] && echo "  <vlan><tag id='$vlan'/></vlan>"
	else
		echo "<hostdev mode='subsystem' type='pci' managed='$managed'>"
		echo "  <source><address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/></source>"
	fi
	cat <<-XML
		  <alias name='ua-$1-$2'/>
		  <address type='pci' domain='0x0000' bus='$(guest_bus "$4")' slot='0x00' function='0x0'/>
		</$element>
	XML
}

# hostdev_file NAME K VF_BDF GUEST_BUS: hostdev_xml written to a file; prints the file's path
hostdev_file() {
	local file=/run/svff-testbed/hostdev-$1-$2.xml
	hostdev_xml "$@" >"$file"
	echo "$file"
}

# domain_xml NAME CMDLINE ROOT_PORTS HOSTDEV...: an inner domain (256 MiB, 1 vcpu, q35, direct
# kernel boot, serial console to $TB_LOG/NAME.serial, QEMU $TB_EMULATOR); with svff.probe=1 in
# CMDLINE, a second serial port reads the FIFO /run/svff-testbed/NAME.probe.in (see guest_probe)
domain_xml() {
	local name=$1 cmdline=$2 ports=$3 i
	shift 3
	cat <<-XML
		<domain type='$(guest_virt_type)'>
		  <name>$name</name>
		  <memory unit='MiB'>256</memory>
		  <vcpu>1</vcpu>
		  <os>
		    <type arch='x86_64' machine='q35'>hvm</type>
		    <kernel>$GUEST_KERNEL</kernel>
		    <initrd>$GUEST_INITRD</initrd>
		    <cmdline>$cmdline</cmdline>
		  </os>
		  <features><acpi/><apic/></features>
		  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
		  <devices>
		    <emulator>$TB_EMULATOR</emulator>
		    <controller type='usb' model='none'/>
		    <controller type='pci' index='0' model='pcie-root'/>
	XML
	for ((i = 1; i <= ports; i++)); do
		echo "    <controller type='pci' index='$i' model='pcie-root-port'/>"
	done
	cat <<-XML
		    <serial type='file'><source path='$TB_LOG/$name.serial'/><target port='0'/></serial>
		    <console type='file'><source path='$TB_LOG/$name.serial'/><target type='serial' port='0'/></console>
		    $(probe_port_xml "$name" "$cmdline")
		    <memballoon model='none'/>
		    $*
		  </devices>
		</domain>
	XML
}

# probe_port_xml NAME CMDLINE: the <serial> the guest's probe requests come through (port 1,
# from the FIFOs /run/svff-testbed/NAME.probe.{in,out}), if CMDLINE asks for probes
probe_port_xml() {
	[[ " $2 " == *" svff.probe=1 "* ]] || return 0
	echo "<serial type='pipe'><source path='/run/svff-testbed/$1.probe'/><target port='1'/></serial>"
}

# domain_start NAME [--no-hotplug] [--probe] [--ip ADDR/PREFIX] VF_BDF@GUEST_BUS[@OPTIONS]...:
# define and start an inner domain with these VFs (K-th one: alias ua-NAME-K, guest address
# GUEST_BUS:00.0, OPTIONS as for hostdev_xml) and wait until the guest is up (its first PCI
# report). --no-hotplug boots the guest kernel with pcie_ports=compat and
# acpiphp.disable=1: it then ignores hot-unplug requests. --probe lets guest_probe make the
# guest reset its NVMe controllers and report them. --ip gives the guest's network interfaces
# that address, and its TCP server answers net_tcp_hello.
domain_start() {
	local name=$1 cmdline="console=ttyS0 panic=-1 loglevel=$GUEST_LOGLEVEL${GUEST_KERNEL_ARGS:+ $GUEST_KERNEL_ARGS}" ports=1 k=0 spec bus hostdevs=() err
	local rest
	shift
	while [[ ${1:-} == --* ]]; do
		case $1 in
		--ip)
			cmdline+=" svff.ip=$2"
			shift
			;;
		--no-hotplug)
			# q35 root ports of QEMU 7.2 hot-unplug through ACPI (acpiphp), not only native PCIe
			# hotplug (pciehp): the guest must drop both to ignore the unplug request
			cmdline+=" pcie_ports=compat acpiphp.disable=1"
			;;
		--probe)
			cmdline+=" svff.probe=1"
			mkdir -p /run/svff-testbed
			rm -f "/run/svff-testbed/$name.probe.in" "/run/svff-testbed/$name.probe.out"
			mkfifo -m 600 "/run/svff-testbed/$name.probe.in" "/run/svff-testbed/$name.probe.out"
			;;
		*) fail "domain_start: unknown option $1" ;;
		esac
		shift
	done
	for spec in "$@"; do
		rest=${spec#*@}
		bus=$(guest_bus "${rest%%@*}")
		((bus + 1 > ports)) && ports=$((bus + 1)) # one spare port for hot-plugging
		[[ $rest == *@* ]] || rest+=@
		hostdevs+=("$(hostdev_xml "$name" "$k" "${spec%%@*}" "$bus" "${rest#*@}")")
		k=$((k + 1))
	done
	mkdir -p "$TB_LOG" /run/svff-testbed
	rm -f "$TB_LOG/$name.serial"
	domain_xml "$name" "$cmdline" "$ports" "${hostdevs[@]}" >"/run/svff-testbed/$name.xml"
	err=$(virsh -q define "/run/svff-testbed/$name.xml" 2>&1) || fail "virsh define $name: $err"
	((DOMAIN_AUTOSTART)) && { err=$(virsh -q autostart "$name" 2>&1) || fail "virsh autostart $name: $err"; }
	((DOMAIN_DEFINE_ONLY)) && return
	err=$(virsh -q start "$name" 2>&1) || fail "virsh start $name: $err"
	((DOMAIN_NO_WAIT)) || guests_booted "$name"
}

# domain_launch NAME ...: domain_start without waiting for the guest; guests_booted waits.
# Guests that boot side by side take less than one after another.
domain_launch() { DOMAIN_NO_WAIT=1 domain_start "$@"; }
DOMAIN_NO_WAIT=0

# guests_booted NAME...: every guest has reported (its first PCI report) within
# GUEST_BOOT_TIMEOUT seconds per guest: guests booting side by side share the outer VM's CPU
guests_booted() {
	local name limit=$((GUEST_BOOT_TIMEOUT * $#)) t0
	t0=$(now)
	for name; do
		wait_until $((limit - ($(now) - t0) / 100)) guest_reported "$name" ||
			fail "guest $name did not report within ${limit}s (guests booting: $*)"
	done
}

# domain_define_autostart NAME VF_BDF@GUEST_BUS...: domain_start's domain, defined with
# <autostart> and not started: libvirtd starts it when it starts (at the next boot)
domain_define_autostart() { DOMAIN_AUTOSTART=1 DOMAIN_DEFINE_ONLY=1 domain_start "$@"; }

# domain_start_autostart NAME VF_BDF@GUEST_BUS...: domain_start, with <autostart>
domain_start_autostart() { DOMAIN_AUTOSTART=1 domain_start "$@"; }
DOMAIN_AUTOSTART=0 DOMAIN_DEFINE_ONLY=0

# domain_running NAME: libvirt says the domain runs
domain_running() { [[ $(virsh domstate "$1" 2>/dev/null) == running ]]; }

# domain_pid NAME: pid of the domain's QEMU process
domain_pid() { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }

# xml_has_alias NAME ALIAS: the domain's live XML has a device with this alias
xml_has_alias() { virsh dumpxml "$1" 2>/dev/null | grep -q "<alias name='$2'/>"; }

# assert_xml_has_alias NAME ALIAS / assert_xml_lacks_alias NAME ALIAS: check the live XML
assert_xml_has_alias() { assert "live XML of $1 has $2" xml_has_alias "$1" "$2"; }
assert_xml_lacks_alias() { assert "live XML of $1 lacks $2" not xml_has_alias "$1" "$2"; }

# ------------------------------------------------------------------ guest view

# guest_report NAME: the guest's latest PCI report line (empty before the first one)
guest_report() { grep -a '^SVFF-GUEST pci ' "$TB_LOG/$1.serial" 2>/dev/null | tail -n 1 | tr -d '\r'; }

# guest_reported NAME: the guest has printed at least one PCI report
guest_reported() { [[ -n $(guest_report "$1") ]]; }

# guest_bdf BUS: the guest's BDF of a device at guest bus BUS, slot 0, function 0
guest_bdf() { printf '0000:%02x:00.0' $((16#${1#0x})); }

# guest_has_device NAME GUEST_BDF [DRIVER]: the latest report shows the device (bound to DRIVER)
guest_has_device() {
	local report
	report=$(guest_report "$1")
	if [[ -n ${3:-} ]]; then
		[[ " $report " == *" $2=$3,"* ]]
	else
		[[ " $report " == *" $2="* ]]
	fi
}

# guest_wait_device NAME GUEST_BDF DRIVER [TIMEOUT]: wait (default 30 s) until the guest shows
# the device bound to DRIVER; WAITED holds the time it took
guest_wait_device() { wait_until "${4:-30}" guest_has_device "$1" "$2" "$3"; }

# guest_wait_gone NAME GUEST_BDF [TIMEOUT]: wait (default 30 s) until the device is gone from the
# guest's latest report; WAITED holds the time it took
guest_wait_gone() { wait_until "${3:-30}" not guest_has_device "$1" "$2"; }

# guest_nvme_count NAME: the count of /dev/nvme* nodes in the guest's latest report
guest_nvme_count() { guest_report "$1" | sed -n 's/.* nvme=\([0-9]*\)$/\1/p'; }

# guest_probe NAME [TIMEOUT]: ask the guest (started with domain_start --probe) to reset each of
# its NVMe controllers through its driver and report them; prints the guest's answer
#   SVFF-GUEST probe seq=N up=SECS result=ok|failed nvme0=STATE,reset=RC,took=SECS ...
# and succeeds when it came within TIMEOUT seconds (default 60) with result=ok (every controller
# reset without error and live, and at least one)
guest_probe() {
	local name=$1 timeout=${2:-60} seq line
	seq=$(now) # unique, also when called in a subshell
	# QEMU holds the FIFO open: the write does not block while the domain runs
	timeout 10 bash -c "echo 'probe $seq' >/run/svff-testbed/$name.probe.in" ||
		{ echo "cannot send a probe request to $name"; return 1; }
	wait_until "$timeout" guest_probe_answered "$name" "$seq" ||
		{ echo "no probe answer from $name within ${timeout}s"; return 1; }
	line=$(guest_probe_answer "$name" "$seq")
	echo "$line"
	[[ " $line " == *" result=ok "* ]]
}

# guest_probe_answer NAME SEQ: the guest's answer to probe SEQ (empty before it came)
guest_probe_answer() { grep -a "^SVFF-GUEST probe seq=$2 " "$TB_LOG/$1.serial" 2>/dev/null | tail -n 1 | tr -d '\r'; }
guest_probe_answered() { [[ -n $(guest_probe_answer "$1" "$2") ]]; }

# kill background jobs a scenario leaves behind
trap 'jobs -p | xargs -r kill 2>/dev/null' EXIT

# vfio_device_holder BDF: in the background, a process outside libvirt that opens the VF the
# way QEMU does (group, container, type1 IOMMU, device fd) and keeps it: with the device fd
# open, the kernel's removal of the VF (a write of sriov_numvfs) blocks until it lets go.
# Its pid is in HOLDER_PID. (perl-base is Essential in Debian: no extra package.)
vfio_device_holder() {
	local group
	group=$(vf_group "$1") || fail "$1 has no IOMMU group"
	perl -e '
		my ($group, $bdf) = @ARGV;
		open(my $container, "+<", "/dev/vfio/vfio") or die "container: $!";
		open(my $g, "+<", "/dev/vfio/$group") or die "group: $!";
		ioctl($g, 0x3b68, pack("i", fileno($container))) or die "set container: $!";
		ioctl($container, 0x3b66, 3) or die "set iommu: $!";        # VFIO_TYPE1v2_IOMMU
		my $fd = ioctl($g, 0x3b6a, $bdf) or die "device fd: $!";     # VFIO_GROUP_GET_DEVICE_FD
		print "holding $bdf\n";
		sleep 3600;' "$group" "$1" &
	HOLDER_PID=$!
}

# ------------------------------------------------------------------ reboots and power loss
# A scenario that spans reboots is run once per boot, from the top: TB_PHASE is 1 on the first
# boot and N after its (N-1)-th reboot. What it left on the disk (domains, svff.conf, svff's
# state, /etc) is still there; /run is not, and the host's VM is a new QEMU (new devices).
TB_PHASE=${TB_PHASE:-1}
DL_REBOOT=120

# reboot_prepare: tell the runner (resume file on the disk) and the host (a file on the share:
# 9p writes reach the host at once, the serial port may lose its last bytes) that the VM is
# about to reboot and that this scenario goes on in its next phase; then sync, so a power loss
# keeps what the scenario wrote so far
reboot_prepare() {
	printf 'RESUME_SCENARIO=%q\nRESUME_PHASE=%d\nRESUME_WALL_T0=%d\n' "$SCENARIO" $((TB_PHASE + 1)) \
		"${TB_WALL_T0:-$(date +%s)}" >"${RESUME:?run by the runner}"
	echo "$SCENARIO phase $((TB_PHASE + 1))" >/mnt/share/out/reboot-expected
	echo "[testbed] step reboot:$SCENARIO deadline=${DL_REBOOT}s"
	sync
}

# reboot_cancel: the reboot did not happen after all
reboot_cancel() { rm -f "$RESUME" /mnt/share/out/reboot-expected; }

# tb_reboot clean|power-loss: reboot the VM, cleanly (systemd stops everything, libvirt-guests
# included) or at once without syncing (sysrq b), as a power loss or a watchdog would
tb_reboot() {
	reboot_prepare
	case $1 in
	clean)
		# the runner's unit powers the VM off by force when it stops: not on this reboot
		mkdir -p /run/systemd/system/svff-testbed.service.d
		printf '[Service]\nExecStopPost=\n' >/run/systemd/system/svff-testbed.service.d/reboot.conf
		systemctl daemon-reload
		systemctl reboot
		;;
	power-loss) echo b >/proc/sysrq-trigger ;;
	*) reboot_cancel; fail "tb_reboot: unknown kind '$1'" ;;
	esac
	# killed by the reboot; the host enforces the deadline too
	sleep "$DL_REBOOT"
	reboot_cancel
	fail "the VM did not reboot within ${DL_REBOOT}s"
}

# expect_power_loss CMD...: CMD (svff with a reboot:... fault switch) must cut the power
expect_power_loss() {
	local rc=0
	reboot_prepare
	"$@" || rc=$?
	reboot_cancel
	fail "'$*' returned (status $rc) instead of rebooting the VM"
}

# boot_unit NAME SCRIPT [ORDERING...]: a oneshot unit svff-testbed-boot-NAME.service, enabled
# for the coming boots, that runs SCRIPT (bash, with lib.sh; its $ reach bash, not systemd)
# early; the runner removes it
boot_unit() {
	local name=$1 script=$2 unit=/etc/systemd/system/svff-testbed-boot-$1.service
	shift 2
	cat >"$unit" <<-UNIT
		[Unit]
		Description=svff test bed: $name at boot
		$(printf '%s\n' "$@")

		[Service]
		Type=oneshot
		RemainAfterExit=yes
		ExecStart=/bin/bash -c '. $TB_LIB/lib.sh; ${script//\$/\$\$}'

		[Install]
		WantedBy=multi-user.target
	UNIT
	systemctl daemon-reload
	systemctl -q enable "svff-testbed-boot-$name.service"
}

# site_at_boot: the test bed's site set-up as a host has it at every boot before svff's boot
# job: the site rule (see site_online_rule) in /etc, running lib.sh from the disk (the share is
# mounted late), and each NVMe PF's flexible resources released once its nvme driver is bound
site_at_boot() {
	site_rule_write /etc/udev/rules.d ". $TB_LIB/lib.sh"
	udevadm control --reload
	# shellcheck disable=SC2016 # expanded by the unit at boot
	boot_unit site 'for pf in $(pf_list); do wait_until 60 test -e $SYSPCI/$pf/nvme && pf_release_flexible $pf; done' \
		After=systemd-udev-trigger.service systemd-modules-load.service \
		Before=svff-apply.service "$TB_LIBVIRTD.service"
}

# boot_seconds_to_guest_vf NAME GUEST_BDF: seconds from the outer kernel's start to the guest's
# first report of the device with nvme bound: its QEMU's start (in the host's clock since boot)
# plus the guest's own uptime at that report (a lower bound by the guest's firmware time)
boot_seconds_to_guest_vf() {
	local pid start up hz
	pid=$(domain_pid "$1")
	hz=$(getconf CLK_TCK)
	start=$(awk '{ print $22 }' "/proc/$pid/stat")
	up=$(grep -a '^SVFF-GUEST pci ' "$TB_LOG/$1.serial" | grep -a -m1 " $2=nvme," | sed -n 's/.* up=\([0-9.]*\) .*/\1/p')
	[[ -n $up ]] || return 1
	awk -v s="$start" -v hz="$hz" -v u="$up" 'BEGIN { printf "%.1f", s / hz + u }'
}
