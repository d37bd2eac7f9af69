#!/bin/bash
# reconf-domains: what a reconfiguration costs as the domains on a PF grow. M = 4, 2, 1 domains
# hold one VF each of PF 0 (4 VFs, managed by svff, the bed's site rule bringing each new VF's
# controller online); svff-reconf --program /bin/true re-creates the PF's 4 VFs under them, as
# an FPGA reload does. Per M: the wall time of each step and of the whole job (svff-reconf
# --json), svff's own CPU share, and each guest's downtime from its own reports (its device
# gone to its nvme driver bound again). Runs in the test bed:
#   tests/testbed/run bench/reconf-domains
# BENCH lines; tests/bench/plot.sh makes a PNG of them.
. "$(dirname "$0")/../scenarios/lib.sh"
. "$(dirname "$0")/../scenarios/svff-lib.sh"
trap 'undo_manage_pf' EXIT

pf0=$(pf 0)
vfs_create "$pf0" 4
manage_pf "$pf0"
for k in 0 1 2 3; do domain_launch "bench$k" "$(vf "$pf0" "$k")@1"; done
guests_booted bench0 bench1 bench2 bench3
for k in 0 1 2 3; do guest_sees "bench$k" 0000:01:00.0; done

declare -A reports
for m in 4 2 1; do
	# the domains beyond M stop: their VFs are free, as on a host with fewer guests
	for ((k = m; k < 4; k++)); do virsh -q destroy "bench$k" 2>/dev/null || true; done
	for ((k = 0; k < m; k++)); do reports[$k]=$(guest_report_count "bench$k"); done
	assert_svff_exit "M=$m: svff-reconf re-creates the 4 VFs" 0 \
		svff-reconf --pf "$pf0" --numvfs 4 --program /bin/true --json
	worst=0
	for ((k = 0; k < m; k++)); do
		guest_sees "bench$k" 0000:01:00.0
		line=$(bench_guest_downtime "reconf-domains M=$m" "bench$k" 0000:01:00.0 nvme "${reports[$k]}")
		echo "$line"
		d=$(sed -n 's/.*downtime=\([0-9.]*\)s$/\1/p' <<<"$line")
		[[ -n $d ]] || fail "M=$m: no downtime of bench$k: $line"
		worst=$(awk -v a="$d" -v b="$worst" 'BEGIN { print (a > b) ? a : b }')
	done
	bench_reconf_cost "reconf-domains M=$m"
	printf 'BENCH reconf-domains M=%d detach=%ss disable=%ss enable=%ss reattach=%ss total=%ss svff-cpu=%ss worst-downtime=%ss\n' \
		"$m" "$(reconf_step_field detach seconds)" "$(reconf_step_field disable seconds)" \
		"$(reconf_step_field enable seconds)" "$(reconf_step_field reattach seconds)" \
		"$(reconf_step_field reconfiguration seconds)" "$(reconf_step_field reconfiguration cpu_seconds)" "$worst"
done
