# SPDX-License-Identifier: GPL-2.0
#
# The chart of 'make bench': gnuplot -e "dir='build/bench'" bench-chart.gp
# Left: every figure as pkernfs ÷ its baseline, on a log scale, bars
# starting from parity; the crosses are the goals (at most).  Right: mount
# time against the number of files.

set terminal pngcairo size 1400,600 font ",10" noenhanced
set output dir . '/bench.png'
set multiplot layout 1,2 title 'pkernfs, make bench (QEMU TCG: ratios only, see results.md)'

set title 'pkernfs ÷ baseline (lower is better)'
set logscale y
set yrange [0.001:10]
set grid ytics
set xtics rotate by -35 left
set style fill solid 0.6
set key top left
plot dir . '/ratios.dat' using 0:(1):($0 - 0.35):($0 + 0.35):($2 < 1 ? $2 : 1):($2 < 1 ? 1 : $2):xtic(1) \
	with boxxyerror lc rgb '#4477aa' title 'measured', \
	'' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.8 notitle, \
	'' using 0:3 with points pt 2 ps 2 lw 2 lc rgb '#cc3311' title 'goal'

unset logscale y
set yrange [0:*]
set autoscale y
set xtics norotate
set title 'mount time vs file count'
set xlabel 'files'
set ylabel 'ms'
set key top left
plot dir . '/mount.dat' using 1:2 with linespoints pt 7 title 'mount(2)', \
	'' using 1:3 with linespoints pt 5 title 'mount + stat of every file'
unset multiplot
