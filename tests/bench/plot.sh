#!/bin/bash
# plot: a PNG of reconf-domains' BENCH lines (tests/bench/reconf-domains.sh): against the
# number of domains M, the reconfiguration's wall time, its detach and reattach steps, and the
# longest guest downtime. Needs gnuplot (Debian's gnuplot-nox).
#   tests/bench/plot.sh LOG... > reconf-domains.png
# LOG: files holding the BENCH lines, e.g. the bench's log in the bed's testbed-out/.
set -euo pipefail

(($# > 0)) || { echo "usage: $0 LOG... > OUT.png" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "$0: gnuplot is not installed (apt install gnuplot-nox)" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# one row per M: M total detach reattach worst-downtime (seconds), M ascending
grep -ah '^BENCH reconf-domains M=[0-9]* detach=' "$@" | tr -d '\r' |
	awk '{ for (i = 3; i <= NF; i++) { split($i, kv, "="); sub(/s$/, "", kv[2]); v[kv[1]] = kv[2] }
	       print v["M"], v["total"], v["detach"], v["reattach"], v["worst-downtime"] }' |
	sort -n >"$data"
[[ -s $data ]] || { echo "$0: no 'BENCH reconf-domains M=' lines in $*" >&2; exit 1; }

gnuplot <<GNUPLOT
set terminal pngcairo size 720,420 font ",10"
set title "svff-reconf re-creating a PF's 4 VFs under M domains (test bed, TCG outer VM)"
set xlabel "domains M, one VF each"
set ylabel "seconds"
set key top left
set grid
set xtics 1
set yrange [0:*]
plot "$data" using 1:2 with linespoints title "whole reconfiguration", \
     "$data" using 1:5 with linespoints title "longest guest downtime", \
     "$data" using 1:3 with linespoints title "detach step", \
     "$data" using 1:4 with linespoints title "reattach step"
GNUPLOT
