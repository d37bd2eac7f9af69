#!/bin/bash
# 96-hook-many-starts: six domains, with VFs of two managed PFs (four of the first, two of the
# second: after earlier scenarios passed the second PF's controller through, the bed's
# emulated NVMe brings no more of its secondary controllers online), are started at once;
# the hook records every assignment exactly once, none is lost, and each goes when its
# domain stops. (The unit test twenty_domains_started_at_once_are_each_recorded_once does
# the same for twenty on a fake sysfs.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/svff-lib.sh"
trap 'undo_manage_pf; jobs -p | xargs -r kill 2>/dev/null' EXIT

pfs=("$(pf 0)" "$(pf 1)")
counts=(4 2)
names=()
for p in 0 1; do
	vfs_create "${pfs[$p]}" "${counts[$p]}"
	manage_pf "${pfs[$p]}"
	for ((k = 0; k < counts[p]; k++)); do
		name=m$p$k
		names+=("$name")
		domain_xml "$name" "console=ttyS0 panic=-1" 2 \
			"$(hostdev_xml "$name" 0 "$(vf "${pfs[$p]}" "$k")" 1)" |
			sed 's|<memory unit=.MiB.>256</memory>|<memory unit="MiB">128</memory>|' \
				>"/run/svff-testbed/$name.xml"
		virsh -q define "/run/svff-testbed/$name.xml" >/dev/null || fail "virsh define $name"
	done
done

step "starting ${#names[@]} domains at once"
t0=$(now)
for name in "${names[@]}"; do
	virsh -q start "$name" >"/run/svff-testbed/$name.start" 2>&1 &
done
failed=0
for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done
step "all starts returned after $(elapsed "$t0")s"
assert_eq "starts that failed" 0 "$failed"
assigned=$(find "$SVFF_RUNTIME/assigned" -name '*.xml' | wc -l)
assert_eq "assignments recorded" "${#names[@]}" "$assigned"
for p in 0 1; do
	for ((k = 0; k < counts[p]; k++)); do
		file=$SVFF_RUNTIME/assigned/${pfs[$p]}-vf$k.xml
		assert "VF $k of ${pfs[$p]} is recorded for m$p$k" grep -q "name=\"m$p$k\"" "$file"
	done
done
for name in "${names[@]}"; do virsh -q destroy "$name" >/dev/null & done
wait
assert_within 20 "every assignment goes with its domain" \
	eval '[[ $(find '"$SVFF_RUNTIME"'/assigned -name "*.xml" | wc -l) == 0 ]]'
