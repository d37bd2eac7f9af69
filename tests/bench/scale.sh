#!/bin/bash
# scale: svff's own cost with many VFs, on the build host (no VM). For N = 16, 64 and 256
# VFs on 4 PFs (N/4 each; 60 more SR-IOV PFs without VFs, so that svff.conf lists 64 PFs)
# and N/2 running domains with 2 VFs each, it runs svff's real code paths against a fake
# sysfs (umockdev-run) and libvirt's test driver (test:///…/node.xml, in-process):
#   svff-status                               every PF, VF, holder, domain, svff.conf drift
#   svff-reconf --pf PF0 --numvfs 8 --dry-run the reconfiguration's plan
#   hook prepare                              the libvirt hook of a starting domain with 8 VFs
#   hook prepare, no host device              the hook's gate alone
#   /bin/true                                 a bare process start, measured the same way
#   bench-virt-list                           what svff-status asks of libvirt, alone
#   tests/bench/scale.sh [BUILD_DIR]          (default: build; needs umockdev and valgrind)
# Prints one BENCH line per measurement: name, N, wall ms and CPU ms (user and system, the
# children's included; each the best of RUNS runs: on a shared machine the mean measures
# the neighbours), instructions
# (callgrind; of the hook, the worker's: the gate's are lost at its exec, see hook-0vf) and,
# of those, the instructions of libvirt's test driver (virConnectOpen, which parses every
# domain: what libvirtd would do, not svff). Numbers only, no verdict.
set -euo pipefail
self=$(realpath "$0")

inner() { # inner N DIR BUILD: inside umockdev-run, with the fake sysfs
	local n=$1 dir=$2 build=$3 pf0=0000:10:00.0
	cd "$dir"
	export SVFF_CONF_FILE=$dir/svff.conf SVFF_STATE_DIR=$dir/state SVFF_RUNTIME_DIR=$dir/run
	export LIBVIRT_DEFAULT_URI=test://$dir/node.xml SVFF_HOOK_WORKER=$build/hooks/svff-qemu-hook-worker
	# each start records its 8 VFs anew; the record of the last one goes before the next
	unassign() { rm -rf "$dir/run/assigned"; }
	measure() { # measure NAME CLEANUP INPUT COMMAND...
		local name=$1 cleanup=$2 input=$3 i t0 t best= cpu u s best_cpu= ir tdrv files
		shift 3
		"$@" <"$input" >/dev/null 2>&1 || {
			echo "scale: '$name' failed at N=$n:" >&2
			"$@" <"$input" >&2 || true
			exit 1
		}
		$cleanup
		for ((i = 0; i < runs; i++)); do
			t0=$EPOCHREALTIME
			cpu=$({ time "$@" <"$input" >/dev/null 2>&1; } 2>&1)
			t=$((${EPOCHREALTIME/./} - ${t0/./}))
			((${best:-t} < t)) || best=$t
			read -r u s <<<"$cpu"
			cpu=$((10#${u/./} + 10#${s/./}))
			((${best_cpu:-cpu} < cpu)) || best_cpu=$cpu
			$cleanup
		done
		rm -f cg.out.*
		valgrind -q --tool=callgrind --trace-children=yes --callgrind-out-file="$dir/cg.out.%p.%n" \
			"$@" <"$input" >/dev/null 2>&1 || true
		$cleanup
		files=(cg.out.*)
		ir=$(awk '/^summary:/ { s += $2 } END { print s + 0 }' "${files[@]}")
		tdrv=$(for f in "${files[@]}"; do callgrind_annotate --auto=no --inclusive=yes "$f" 2>/dev/null; done |
			awk '$3 == "???:virConnectOpen" { gsub(",", "", $1); s += $1 } END { print s + 0 }')
		printf 'BENCH %-12s %4d %9.2f %7d %14d %14d\n' "$name" "$n" \
			"$(awk -v t="$best" 'BEGIN { print t / 1000 }')" "$best_cpu" "$ir" "$tdrv"
	}
	: "${runs:=10}"
	TIMEFORMAT='%3U %3S' # the user and system time of time's command and its children
	measure true : /dev/null /bin/true
	measure virt-list : /dev/null "$build/tests/bench-virt-list"
	measure status : /dev/null "$build/helpers/svff-status"
	measure status-json : /dev/null "$build/helpers/svff-status" --json
	measure reconf-plan : /dev/null "$build/helpers/svff-reconf" --pf "$pf0" --numvfs 8 --dry-run
	measure hook-0vf : "$dir/start0.xml" "$build/hooks/svff" start0 prepare begin -
	measure hook-8vf unassign "$dir/start8.xml" "$build/hooks/svff" start8 prepare begin -
}

if [ "${1:-}" = --inner ]; then
	shift
	runs=$RUNS inner "$@"
	exit 0
fi

build=$(realpath "${1:-build}")
# Not under /dev (umockdev-run mocks /dev: its preload overflows). On a host svff's
# runtime directory is /run, a tmpfs: where $TMPDIR is a disk, the hook's 8 synced record
# writes cost more here.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hostdev() { # hostdev BUS DEVFN
	printf "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' "
	printf "bus='0x%s' slot='0x%02x' function='0x%x'/></source></hostdev>" "$1" $(($2 >> 3)) $(($2 & 7))
}

# PF p is 0000:(10+p):00.0; its VF k is at devfn k + 1 (offset 1, stride 1) in IOMMU group
# 100 + 256 p + k; PFs 0-3 have N/4 VFs, the others none.
make_tree() { # make_tree N DIR
	local n=$1 dir=$2 per=$(($1 / 4)) p k bus nv vf
	for ((p = 0; p < 64; p++)); do
		bus=$(printf '%02x' $((0x10 + p)))
		nv=0
		((p < 4)) && nv=$per
		printf 'P: /devices/pci0000:00/0000:00:%02x.0/0000:%s:00.0\nE: SUBSYSTEM=pci\n' $((p + 1)) "$bus"
		printf 'E: PCI_SLOT_NAME=0000:%s:00.0\nE: DRIVER=nvme\nA: sriov_totalvfs=252\n' "$bus"
		printf 'A: sriov_numvfs=%d\nA: sriov_offset=1\nA: sriov_stride=1\n' "$nv"
		printf 'A: sriov_drivers_autoprobe=0\nL: driver=../../../../bus/pci/drivers/nvme\n'
		for ((k = 0; k < nv; k++)); do
			printf 'L: virtfn%d=../0000:%s:%02x.%x\n' "$k" "$bus" $(((k + 1) >> 3)) $(((k + 1) & 7))
		done
		echo
		for ((k = 0; k < nv; k++)); do
			vf=$(printf '0000:%s:%02x.%x' "$bus" $(((k + 1) >> 3)) $(((k + 1) & 7)))
			printf 'P: /devices/pci0000:00/0000:00:%02x.0/%s\nE: SUBSYSTEM=pci\n' $((p + 1)) "$vf"
			printf 'E: PCI_SLOT_NAME=%s\nE: DRIVER=vfio-pci\n' "$vf"
			printf 'L: driver=../../../../bus/pci/drivers/vfio-pci\n'
			printf 'L: iommu_group=../../../../kernel/iommu_groups/%d\n' $((100 + p * 256 + k))
			printf 'L: physfn=../0000:%s:00.0\n\n' "$bus"
		done
	done >"$dir/tree.umockdev"
	# svff.conf: the 64 PFs, the idle ones first, so the hook looks at each
	for ((p = 63; p >= 0; p--)); do
		printf '[0000:%02x:00.0]\ndriver=vfio-pci\n' $((0x10 + p))
	done >"$dir/svff.conf"
}

make_domains() { # make_domains N DIR: N/2 running domains, each with VFs 2j and 2j + 1 of a PF
	local n=$1 dir=$2 per=$(($1 / 4)) p k d=0 bus
	{
		echo "<node>"
		for ((p = 0; p < 4; p++)); do
			bus=$(printf '%02x' $((0x10 + p)))
			for ((k = 0; k < per; k += 2)); do
				printf "<domain type='test'><name>vm%03d</name>" "$d"
				printf "<uuid>%08x-0000-4000-8000-000000000000</uuid>" $((d + 1))
				printf "<memory>65536</memory><os><type>hvm</type></os><devices>"
				hostdev "$bus" $((k + 1))
				hostdev "$bus" $((k + 2))
				echo "</devices></domain>"
				d=$((d + 1))
			done
		done
		echo "</node>"
	} >"$dir/node.xml"
	# the starting domains of the hook: one without host devices, one with VFs 0 and 1 of
	# each of the 4 PFs
	printf "<domain type='kvm'><name>start0</name><uuid>5e1f0000-0000-4000-8000-000000000000</uuid>%s\n" \
		"<memory unit='KiB'>65536</memory><os><type>hvm</type></os><devices></devices></domain>" \
		>"$dir/start0.xml"
	{
		printf "<domain type='kvm'><name>start8</name><uuid>5e1f0000-0000-4000-8000-000000000008</uuid>"
		printf "<memory unit='KiB'>65536</memory><os><type>hvm</type></os><devices>"
		for ((p = 0; p < 4; p++)); do
			hostdev "$(printf '%02x' $((0x10 + p)))" 1
			hostdev "$(printf '%02x' $((0x10 + p)))" 2
		done
		echo "</devices></domain>"
	} >"$dir/start8.xml"
}

printf 'BENCH %-12s %4s %9s %7s %14s %14s\n' name N wall-ms cpu-ms instructions of-them-libvirt
for n in ${SCALE_N:-16 64 256}; do
	dir=$tmp/n$n
	mkdir -p "$dir"
	make_tree "$n" "$dir"
	make_domains "$n" "$dir"
	RUNS=${RUNS:-10} umockdev-run -d "$dir/tree.umockdev" -- "$self" --inner "$n" "$dir" "$build"
done
