#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make bench': boot the bench scenario (tools/testing/selftests/pkernfs/
# bench/bench.sh) once under QEMU with 23G of memory (QEMU allocates it as
# the guest touches it; most is pkernfs regions that stay empty) and a
# constant TSC,
# then reduce its output to build/bench/results.md, print that table and
# draw build/bench/bench.png with gnuplot (scripts/deps.sh installs it).
# Never a test: nothing here fails on a number, only on a run that did not
# complete.
#
# Usage: bench.sh [-r REPS] [-f FIGURES]
#   -r	repetitions of every figure (default 5)
#   -f	only these figures, comma-separated (e.g. -f 6; default all), into
#	build/bench/fig-6/ (or fig-2-6/...) so that a full run's results stay

set -eu

. "$(dirname "$0")/common.sh"

out="$build/bench"
mem=23G
cpu=max,+invtsc

# host_line: the machine, as the table's first line states it.
host_line()
{
	local model qemu

	model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	qemu=$(qemu-system-x86_64 --version | awk 'NR == 1 { print $4 }')
	echo "QEMU $qemu TCG (no KVM), -smp 2 -m $mem -cpu $cpu, on a" \
		"$(nproc)-core host ($model)"
}

main()
{
	local reps=5 figures= opt rc=0

	while getopts 'r:f:' opt; do
		case $opt in
		r) reps=$OPTARG ;;
		f) figures=$OPTARG ;;
		*) echo "usage: $0 [-r REPS] [-f FIGURES]" >&2; exit 1 ;;
		esac
	done
	case $figures in
	*[!0-9,]*) die "-f takes figure numbers, e.g. -f 2,6" ;;
	?*) out="$out/fig-${figures//,/-}" ;;
	esac
	mkdir -p "$out"
	rm -f "$out"/*.dat "$out/bench.png" "$out/results.md"

	say BENCH "$reps repetitions${figures:+ of figure(s) $figures}," \
		"about 45 minutes under TCG for all of them"
	"$repo/scripts/qemu-run.sh" -t 3600 -m "$mem" -c "$cpu" \
		-a "pkt.reps=$reps${figures:+ pkt.figures=$figures}" \
		-o "$out/vm" bench || rc=$?
	tr -d '\r' <"$out/vm/output.log" >"$out/output.txt"
	if [ "$rc" -ne 0 ] || ! grep -qx '# pkt: scenario done' "$out/output.txt"; then
		tail -n 20 "$out/output.txt" | sed 's/^/    /'
		die "the bench run did not complete (QEMU status $rc), see ${out#"$repo/"}/vm/"
	fi

	awk -v out="$out" -v host="$(host_line)" \
		-f "$repo/scripts/bench-report.awk" "$out/output.txt" \
		>"$out/results.md"
	if [ ! -s "$out/ratios.dat" ] || [ ! -s "$out/mount.dat" ]; then
		say SKIP "chart: it needs figures 1 to 3 (a run without -f)"
	else
		gnuplot -e "dir='$out'" "$repo/scripts/bench-chart.gp"
		say CHART "build/bench/bench.png"
	fi
	echo
	cat "$out/results.md"
	echo
	say BENCH "${out#"$repo/"}/results.md, raw samples in ${out#"$repo/"}/output.txt"
}

main "$@"
