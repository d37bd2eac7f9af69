#!/bin/bash
# detach-domains: wall time of taking one VF away from each of M domains (M = 1, 2, 4), by
# svff-detach (domains in parallel) beside a sequential 'virsh detach-device' loop over the
# same devices, each until the devices are gone from the live XML. Runs in the test bed:
#   tests/testbed/run bench/detach-domains
# Prints one table row per M; the figures go into README's Performance section.
. "$(dirname "$0")/../scenarios/lib.sh"
. "$(dirname "$0")/../scenarios/svff-lib.sh"

pf0=$(pf 0)
vfs_create "$pf0" 4
for k in 0 1 2 3; do domain_start "bench$k" "$(vf "$pf0" "$k")@1"; done
for k in 0 1 2 3; do guest_sees "bench$k" 0000:01:00.0; done

# gone FROM TO: the VFs of domains bench<FROM> .. bench<TO - 1> are out of their live XML
gone() {
	local k
	for ((k = $1; k < $2; k++)); do xml_has_alias "bench$k" "ua-bench$k-0" && return 1; done
	return 0
}

all_back() {
	local k
	for ((k = 0; k < $1; k++)); do guest_has_device "bench$k" 0000:01:00.0 nvme || return 1; done
}

reattach_with_virsh() {
	local k
	for ((k = 0; k < $1; k++)); do
		virsh -q attach-device "bench$k" "$(hostdev_file "bench$k" 0 "$(vf "$pf0" "$k")" 1)" --live >/dev/null
	done
	wait_until 60 all_back "$1" || fail "guests did not get their VFs back"
}

results=()
for m in 1 2 4; do
	# svff: the domains that hold VFs of the PF are bench0..bench(m-1); the others are idle
	for ((k = m; k < 4; k++)); do
		virsh -q detach-device "bench$k" "$(hostdev_file "bench$k" 0 "$(vf "$pf0" "$k")" 1)" --live >/dev/null
	done
	wait_until 60 gone "$m" 4 || fail "idle domains still hold their VFs"
	t0=$(now)
	svff-detach --pf "$pf0" -q || fail "svff-detach failed"
	svff_time=$(elapsed "$t0")
	assert "svff: $m device(s) gone" gone 0 "$m"
	svff-reattach --pf "$pf0" -q || fail "svff-reattach failed"
	wait_until 60 all_back "$m" || fail "guests did not get their VFs back"

	t0=$(now)
	for ((k = 0; k < m; k++)); do
		virsh -q detach-device "bench$k" "$(hostdev_file "bench$k" 0 "$(vf "$pf0" "$k")" 1)" --live >/dev/null ||
			fail "virsh detach-device bench$k"
	done
	wait_until 60 gone 0 "$m" || fail "virsh: devices not gone"
	virsh_time=$(elapsed "$t0")
	reattach_with_virsh 4
	results+=("$(printf '%-3s %-18s %s' "$m" "${svff_time}s" "${virsh_time}s")")
done

echo "BENCH detach-domains: wall time until every device left its domain"
echo "BENCH M   svff-detach        sequential virsh detach-device"
for row in "${results[@]}"; do echo "BENCH $row"; done
