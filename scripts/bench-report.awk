# SPDX-License-Identifier: GPL-2.0
#
# Reduce the guest output of the bench scenario (pkbench's "sample", "stamp"
# and "info" lines) to the markdown table of 'make bench'.  Medians of all
# samples; every figure is a ratio to the baseline measured in the same run.
# Writes the chart data to OUT/ratios.dat and OUT/mount.dat.
#
# Variables: out (directory), host (a line describing the host and QEMU).

function median(key,	n, i, j, v, a)
{
	n = cnt[key]
	if (!n)
		return -1
	for (i = 1; i <= n; i++) {
		v = val[key, i]
		for (j = i - 1; j >= 1 && a[j] > v; j--)
			a[j + 1] = a[j]
		a[j + 1] = v
	}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function range(key,	i, lo, hi)
{
	lo = hi = val[key, 1]
	for (i = 2; i <= cnt[key]; i++) {
		if (val[key, i] < lo)
			lo = val[key, i]
		if (val[key, i] > hi)
			hi = val[key, i]
	}
	return sprintf("%.2f–%.2f s", lo / 1000000, hi / 1000000)
}

function add(key, v)
{
	val[key, ++cnt[key]] = v
}

# ms(US): a time in microseconds, in ms or s.
function ms(us)
{
	if (us < 0)
		return "n/a"
	if (us >= 1000000)
		return sprintf("%.2f s", us / 1000000)
	if (us >= 100000)
		return sprintf("%.0f ms", us / 1000)
	return sprintf("%.2f ms", us / 1000)
}

function mib(b)
{
	return sprintf("%.1f MiB", b / 1048576)
}

function ratio(r)
{
	return r >= 100 || r < 0.01 ? sprintf("%.3g", r) : sprintf("%.2f", r)
}

function verdict(ok)
{
	return ok ? "**met**" : "**missed**"
}

function row(fig, what, pk, base, rat, goal, met)
{
	printf("| %s | %s | %s | %s | %s | %s | %s |\n", fig, what, pk, base,
	       rat, goal, met)
}

# at_most FIG WHAT PK BASENAME BASE GOAL: the row of a time PK whose goal
# is PK ÷ BASE ≤ GOAL.
function at_most(fig, what, pk, basename, base, goal)
{
	row(fig, what, ms(pk), basename ": " ms(base), ratio(pk / base),
	    "≤ " goal, verdict(pk / base <= goal))
}

# chart NAME RATIO GOAL: one bar of the ratio chart (GOAL "NaN" if none).
function chart(name, r, goal)
{
	printf("\"%s\" %g %s\n", name, r, goal) > (out "/ratios.dat")
}

/^info / {
	k = $2
	$1 = $2 = ""
	sub(/^ +/, "")
	info[k] = $0
	next
}

/^sample / {
	add($2 SUBSEP $3 SUBSEP $4, $5)
	next
}

/^stamp kexec / { klabel = $3; kexec = $4; ulabel = ""; next }
/^stamp arrive / { arrive = $4; next }
/^stamp boottime_us / {
	if ($3 == ulabel) {
		add("lu" SUBSEP $3 SUBSEP "pre", uboot - $4)
		add("lu" SUBSEP $3 SUBSEP "kboot", $4)
	}
	next
}

/^stamp up / {
	if ($3 == klabel && $3 != "x" && info["tsc_hz"] > 0) {
		hz = info["tsc_hz"] / 1000000
		up = $4
		add("lu" SUBSEP $3 SUBSEP "total", ($4 - kexec) / hz)
		add("lu" SUBSEP $3 SUBSEP "boot", (arrive - kexec) / hz)
		add("lu" SUBSEP $3 SUBSEP "verify", ($4 - arrive) / hz)
		ulabel = $3
		uboot = (arrive - kexec) / hz
	}
	klabel = ""
	next
}

# After stamp up: a VMM re-attached its container (pkernfs_nic).
/^stamp reattach / {
	if ($3 == ulabel && hz > 0) {
		add("lu" SUBSEP $3 SUBSEP "reattach", ($4 - kexec) / hz)
		add("lu" SUBSEP $3 SUBSEP "attach", ($4 - up) / hz)
	}
	next
}

# Figure 8, a real QEMU's VM (pkernfs_qemu): stop and saved in the old
# kernel; QEMU up, restored and cont after the "stamp up" of the new one.
/^stamp stop / { qstop[$3] = $4; next }
/^stamp saved / { qsaved[$3] = $4; next }
/^stamp qemu / { qup[$3] = $4; next }
/^stamp restored / { qrestored[$3] = $4; next }
/^stamp cont / {
	if ($3 == ulabel && hz > 0 && ($3 in qstop)) {
		k = "qemu" SUBSEP $3 SUBSEP
		add(k "pause", ($4 - qstop[$3]) / hz)
		add(k "save", (qsaved[$3] - qstop[$3]) / hz)
		add(k "tokexec", (kexec - qsaved[$3]) / hz)
		add(k "start", (qup[$3] - up) / hz)
		add(k "load", (qrestored[$3] - qup[$3]) / hz)
	}
	# A cycle that fails half way must not lend its stamps to the next.
	delete qstop[$3]
	delete qsaved[$3]
	delete qup[$3]
	delete qrestored[$3]
	next
}

/^not ok/ { failures++ }

END {
	S = SUBSEP
	printf("## pkernfs benchmark (`make bench`)\n\n")
	printf("Machine: %s; guest: Linux %s, %s vCPUs, %.1f GiB of System RAM, " \
	       "pkernfs region %s, THP `%s`.  Medians of %s runs, the variants " \
	       "interleaved in one QEMU run.\n\n", host, info["kernel"],
	       info["vcpus"], info["mem_kib"] / 1048576, info["region"],
	       info["thp"], info["reps"])
	printf("**Caveat:** QEMU TCG emulates the CPU and the MMU in " \
	       "software, and the test kernel has lockdep, DEBUG_VM and " \
	       "KASAN: " \
	       "absolute times are far from hardware, only the ratios " \
	       "between variants measured side by side mean something.\n\n")

	printf("| # | Figure | pkernfs | Baseline | pkernfs ÷ baseline | Goal | Result |\n")
	printf("|---|---|---|---|---|---|---|\n")

	# 1. First touch.
	pk = median("touch" S "pkernfs" S "time_us")
	tm = median("touch" S "tmpfs" S "time_us")
	hu = median("touch" S "hugetlbfs" S "time_us")
	if (pk > 0 && tm > 0 && hu > 0) {
		row(1, "First touch: map 1 GiB, write every 4 KiB", ms(pk),
		    "tmpfs huge=never: " ms(tm), ratio(pk / tm) " (" \
		    sprintf("%.0f", tm / pk) "× faster)", "≥ 20× faster",
		    verdict(tm / pk >= 20))
		row(1, "", ms(pk), "hugetlbfs 2 MiB: " ms(hu), ratio(pk / hu),
		    "≤ 1.1", verdict(pk / hu <= 1.1))
		row(1, "Page faults (getrusage minflt)",
		    median("touch" S "pkernfs" S "faults"),
		    "tmpfs: " median("touch" S "tmpfs" S "faults") \
		    ", hugetlbfs: " median("touch" S "hugetlbfs" S "faults"),
		    "", "512 (one per 2 MiB)",
		    verdict(median("touch" S "pkernfs" S "faults") <= 520))
		pa = pk + median("touch" S "pkernfs" S "alloc_us")
		ha = hu + median("touch" S "hugetlbfs" S "alloc_us")
		row(1, "ftruncate + first touch (pkernfs zeroes at ftruncate)",
		    ms(pa), "hugetlbfs: " ms(ha), ratio(pa / ha), "", "")
		chart("touch/tmpfs", pk / tm, 0.05)
		chart("touch/hugetlbfs", pk / hu, 1.1)
	}

	# 2. Live-update blackout.
	s = median("lu" S "16M" S "total")
	g = median("lu" S "1G" S "total")
	p = median("lu" S "plain" S "total")
	if (s > 0 && g > 0 && p > 0) {
		at_most(2, "Live-update blackout, 16 MiB in pkernfs", s,
			"plain kexec", p, 1.05)
		row(2, "Live-update blackout, 1 GiB in pkernfs", ms(g),
		    "16 MiB: " ms(s), ratio(g / s), "≤ 1.05 (size-independent)",
		    verdict(g / s <= 1.05))
		row(2, "of which mount + verify in the new kernel, 16 MiB / 1 GiB",
		    ms(median("lu" S "16M" S "verify")) " / " \
		    ms(median("lu" S "1G" S "verify")),
		    "plain: " ms(median("lu" S "plain" S "verify")),
		    ratio(median("lu" S "16M" S "verify") / p), "", "")
		row(2, "of which before the new kernel's clock starts " \
		    "(shutdown, purgatory, decompression), 16 MiB / 1 GiB",
		    ms(median("lu" S "16M" S "pre")) " / " \
		    ms(median("lu" S "1G" S "pre")),
		    "plain: " ms(median("lu" S "plain" S "pre")), "", "", "")
		row(2, "of which the new kernel's own clock, from its start " \
		    "to the arrival of /init's stamp, 16 MiB / 1 GiB",
		    ms(median("lu" S "16M" S "kboot")) " / " \
		    ms(median("lu" S "1G" S "kboot")),
		    "plain: " ms(median("lu" S "plain" S "kboot")), "", "", "")
		row(2, "spread of the blackout samples (min–max)",
		    range("lu" S "16M" S "total") " / " \
		    range("lu" S "1G" S "total"),
		    "plain: " range("lu" S "plain" S "total"), "", "", "")
		chart("blackout/plain", s / p, 1.05)
		chart("blackout 1G/16M", g / s, 1.05)
	}

	# 3. Mount cost, with 10, 1000 and as many files as there are inodes.
	m1 = median("mount" S "10" S "mount_us")
	m2 = median("mount" S "1000" S "mount_us")
	m3 = median("mount" S "max" S "mount_us")
	n = info["mount_max"]
	if (m1 > 0 && m2 > 0 && m3 > 0 && n > 0) {
		lin = sprintf("%.2f", n / 1000)
		row(3, "mount(2) with 10 / 1000 / " n " files",
		    ms(m1) " / " ms(m2) " / " ms(m3), "",
		    "1000→" n ": " sprintf("%.2f", m3 / m2) "× (linear: " lin "×)",
		    "≤ linear, < 50 ms", verdict(m3 / m2 <= n / 1000 && m3 < 50000))
		r1 = median("mount" S "10" S "restore_us")
		r2 = median("mount" S "1000" S "restore_us")
		r3 = median("mount" S "max" S "restore_us")
		row(3, "mount + stat of every file (restore)",
		    ms(r1) " / " ms(r2) " / " ms(r3), "",
		    "1000→" n ": " sprintf("%.2f", r3 / r2) "× (linear: " lin "×)",
		    "≤ 4.5", verdict(r3 / r2 <= 4.5))
		chart("mount " n "/50 ms", m3 / 50000, 1)
		chart("restore " n "/1000", r3 / r2, 4.5)
		printf("10 %g %g\n1000 %g %g\n%d %g %g\n", m1 / 1000, r1 / 1000,
		       m2 / 1000, r2 / 1000, n, m3 / 1000, r3 / 1000) > \
		       (out "/mount.dat")
	}

	# 4. Metadata.  The RFC gives every file a 2 MiB mappings block on top
	# of its data blocks, after the same 4 MiB of superblock, bitmap and
	# inode store.
	split("1x1G 1000x4K", metas, " ")
	nfiles["1x1G"] = 1
	nfiles["1000x4K"] = 1000
	for (i = 1; i <= 2; i++) {
		v = metas[i]
		used = median("meta" S v S "used_bytes")
		data = median("meta" S v S "data_bytes")
		alloc = median("meta" S v S "alloc_bytes")
		bs = median("meta" S v S "block_bytes")
		if (used < 0)
			continue
		rfc = median("meta" S v S "empty_bytes") + alloc + nfiles[v] * bs
		row(4, "Region used beyond file data, " \
		    (v == "1x1G" ? "1 file of 1 GiB" : "1000 files of 4 KiB"),
		    mib(used - data) " (metadata " mib(used - alloc) \
		    ", block tails " mib(alloc - data) ")",
		    "RFC: " mib(rfc - data) " (metadata " mib(rfc - alloc) ")",
		    ratio((used - data) / (rfc - data)), "", "")
		chart("overhead " v "/RFC", (used - data) / (rfc - data), "NaN")
	}

	# 5. Directory operations.
	split("create stat unlink", ops, " ")
	for (i = 1; i <= 3; i++) {
		pk = median("dirops" S "pkernfs" S ops[i] "_us")
		tm = median("dirops" S "tmpfs" S ops[i] "_us")
		if (pk < 0 || tm <= 0)
			continue
		row(5, ops[i] " of 4000 files in one directory (not " \
		    "5000: pkernfs has 4096 inodes)", ms(pk), "tmpfs: " ms(tm),
		    ratio(pk / tm), "", "")
		chart(ops[i] "/tmpfs", pk / tm, "NaN")
	}

	# 6. VFIO: MAP_DMA of 1 GiB of pkernfs guest RAM for edu.
	pm = median("vfio" S "persistent" S "map_us")
	nm = median("vfio" S "normal" S "map_us")
	bp = median("vfio" S "persistent-by-page" S "map_us")
	if (pm > 0 && nm > 0 && bp > 0) {
		row(6, "VFIO MAP_DMA of 1 GiB of pkernfs guest RAM, persistent " \
		    "domain, resolved a block at a time", ms(pm),
		    "a page at a time (pkernfs_by_block=0): " ms(bp),
		    ratio(pm / bp) " (" sprintf("%.0f", bp / pm) "× faster)",
		    "≥ 20× faster", verdict(bp / pm >= 20))
		row(6, "VFIO MAP_DMA of the same, persistent domain (page " \
		    "tables in pkernfs)", ms(pm), "normal domain: " ms(nm),
		    ratio(pm / nm), "", "")
		pu = median("vfio" S "persistent" S "unmap_us")
		nu = median("vfio" S "normal" S "unmap_us")
		row(6, "VFIO UNMAP_DMA of the same", ms(pu),
		    "normal domain: " ms(nu), ratio(pu / nu), "", "")
		chart("MAP_DMA by block/by page", pm / bp, 0.05)
	}
	# The goal is against a full MAP_DMA as it was, a page at a time; a
	# full one a block at a time writes a PTE per 2 MiB where the check
	# reads one, so the two cost about the same.
	lu = median("vfio" S "liveupdate" S "remap_us")
	fu = median("vfio" S "full" S "remap_us")
	if (lu > 0 && fu > 0 && bp > 0) {
		row(6, "Re-map after the live update: MAP_DMA with " \
		    "VFIO_DMA_MAP_FLAG_LIVE_UPDATE (checks, writes no PTE)",
		    ms(lu), "full MAP_DMA a page at a time: " ms(bp),
		    ratio(lu / bp), "≤ 0.05", verdict(lu / bp <= 0.05))
		row(6, "", ms(lu), "full MAP_DMA a block at a time, same " \
		    "domain: " ms(fu), ratio(lu / fu), "", "")
		chart("re-map LIVE_UPDATE/full by page", lu / bp, 0.05)
	}
	v = median("lu" S "vfio" S "total")
	if (v > 0) {
		s = median("lu" S "16M" S "total")
		row(6, "Live-update blackout holding a persistent domain " \
		    "with 1 GiB mapped", ms(v),
		    s > 0 ? "16 MiB, no device: " ms(s) : "",
		    s > 0 ? ratio(v / s) : "", "", "")
	}

	# 7. A NIC receiving through the live update.
	n = median("lu" S "nic" S "reattach")
	p = median("lu" S "plain" S "total")
	if (n > 0 && p > 0) {
		row(7, "Live-update blackout with an e1000e receiving, " \
		    "kexec -e to the container re-attached", ms(n),
		    "plain kexec to /init: " ms(p), ratio(n / p), "", "")
		row(7, "of which before the new kernel's clock starts / " \
		    "its boot to /init / mount + verify / bind + re-attach",
		    ms(median("lu" S "nic" S "pre")) " / " \
		    ms(median("lu" S "nic" S "kboot")) " / " \
		    ms(median("lu" S "nic" S "verify")) " / " \
		    ms(median("lu" S "nic" S "attach")),
		    "plain: " ms(median("lu" S "plain" S "pre")) " / " \
		    ms(median("lu" S "plain" S "kboot")) " / " \
		    ms(median("lu" S "plain" S "verify")) " / -", "", "", "")
		d = median("nic" S "nic" S "during")
		sp = median("nic" S "nic" S "span_us")
		row(7, "Device side: frames written into guest RAM during the " \
		    "kexec (1000/s), over the sender's time", d " over " ms(sp),
		    "", "", "> 0", verdict(d > 0))
		gap = median("nic" S "nic" S "gap_us")
		lost = 0
		for (i = 1; i <= cnt["nic" S "nic" S "lost"]; i++)
			lost += val["nic" S "nic" S "lost", i]
		row(7, "Device side: longest gap between two received frames " \
		    "(sender's time), frames lost but to ring overrun (all runs)",
		    ms(gap) ", " lost " lost", "sending interval: 1.00 ms",
		    ratio(gap / 1000), "0 lost", verdict(lost == 0))
		chart("NIC blackout/plain", n / p, "NaN")
	}

	# 8. A real QEMU keeps its VM across the live update.
	a = median("qemu" S "qemu64" S "pause")
	b = median("qemu" S "qemu512" S "pause")
	p = median("lu" S "plain" S "total")
	if (a > 0 && b > 0 && p > 0) {
		row(8, "VM pause with a real QEMU, 64 MiB of guest RAM in " \
		    "pkernfs: QMP stop to cont, across the kexec", ms(a),
		    "plain kexec to /init: " ms(p), ratio(a / p), "", "")
		row(8, "VM pause, 512 MiB of guest RAM", ms(b),
		    "64 MiB: " ms(a), ratio(b / a), "≤ 1.05 (nothing copied)",
		    verdict(b / a <= 1.05))
		for (i = 1; i <= 2; i++) {
			v = i == 1 ? "qemu64" : "qemu512"
			row(8, "of which save (stop to QEMU gone) / to kexec -e / " \
			    "kexec and boot to /init / mount + verify / QEMU " \
			    "started / device state loaded, " \
			    (i == 1 ? "64" : "512") " MiB",
			    ms(median("qemu" S v S "save")) " / " \
			    ms(median("qemu" S v S "tokexec")) " / " \
			    ms(median("lu" S v S "boot")) " / " \
			    ms(median("lu" S v S "verify")) " / " \
			    ms(median("qemu" S v S "start")) " / " \
			    ms(median("qemu" S v S "load")),
			    i == 1 ? "plain: - / - / " \
			    ms(median("lu" S "plain" S "boot")) " / " \
			    ms(median("lu" S "plain" S "verify")) " / - / -" : "",
			    "", "", "")
		}
		s6 = median("qemu" S "qemu64" S "state_bytes")
		s5 = median("qemu" S "qemu512" S "state_bytes")
		row(8, "Device state saved (x-ignore-shared), 64 / 512 MiB " \
		    "of guest RAM", sprintf("%.0f / %.0f KiB", s6 / 1024,
		    s5 / 1024), "guest RAM: 64 / 512 MiB",
		    ratio(s5 / (512 * 1048576)), "< 1/16 of RAM",
		    verdict(s5 < 512 * 1048576 / 16 && s6 < 64 * 1048576 / 16))
		chart("VM pause 512M/64M", b / a, 1.05)
	}

	# 9. Boot and blackout against the size of the region.
	i1 = median("init" S "pk256M" S "time_us")
	i2 = median("init" S "pk16G" S "time_us")
	a = median("lu" S "region256M" S "total")
	b = median("lu" S "region16G" S "total")
	p = median("lu" S "plain" S "total")
	if (i1 > 0 && i2 > 0 && a > 0 && b > 0 && p > 0) {
		at_most(9, "pkernfs_init at boot, 16 GiB region " \
			"(initcall_debug)", i2, "256 MiB region", i1, 1.1)
		row(9, "pkernfs_init at boot, the 2.5 GiB region of figure 2",
		    ms(median("init" S "pk" S "time_us")), "", "", "", "")
		at_most(9, "Live-update blackout, 256 MiB region, 16 MiB in it",
			a, "plain kexec", p, 1.02)
		at_most(9, "Live-update blackout, 16 GiB region, 16 MiB in it",
			b, "plain kexec", p, 1.02)
		chart("init 16G/256M", i2 / i1, 1.1)
		chart("blackout 16G/plain", b / p, 1.02)
	}

	if (failures)
		printf("\n%d sanity check(s) failed in the guest: see the raw " \
		       "output.\n", failures)
}
