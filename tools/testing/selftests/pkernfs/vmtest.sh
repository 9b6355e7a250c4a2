#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the pkernfs scenarios, each in its own QEMU boot, and report KTAP.
#
# A scenario is scenarios/NAME.sh (plus an optional NAME.boot holding its
# memmap=/pkernfs= arguments).  It may span several kernels, kexecing from
# one stage to the next within one QEMU run.  The guest writes TAP to ttyS1;
# this script renumbers it into one subtest per scenario and adds four
# host-side checks: QEMU exited by itself (status 0) in time, the guest
# passed at least one check, the last stage printed the '# pkt: scenario
# done' sentinel, and the kernel console log (all boots) shows no warning,
# oops, lockdep or KASAN splat.
#
# Two scenarios boot at once, or -j N (each in its own QEMU and directory);
# the report stays in the order they were named.
#
# The last line counts every test case: '<N> passed, <N> failed, <N> skipped'.
# A skip is neither: .ci/run fails on any skip not on its allow-list.

set -ue

test_dir=$(realpath "$(dirname "$0")")
kernel_dir=$(realpath "$test_dir/../../../..")

# Run from the repository, build/ is beside this script's tree; run from the
# copy in build/linux, it is that tree's parent.
if [ -f "$kernel_dir/../bzImage" ]; then
	build_dir=${PKT_BUILD_DIR:-$(realpath "$kernel_dir/..")}
else
	build_dir=${PKT_BUILD_DIR:-$kernel_dir/build}
fi
qemu_run=$kernel_dir/scripts/qemu-run.sh
[ -f "$qemu_run" ] || qemu_run=$(realpath -m "$build_dir/../scripts/qemu-run.sh")
qemu_run=${PKT_QEMU_RUN:-$qemu_run}

SENTINEL='# pkt: scenario done'
SPLAT='WARNING:|BUG:|Oops|Kernel panic|general protection fault|Call Trace|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|turning off the locking correctness validator|KASAN|UBSAN'

scenarios=
keep=0
verbose=0
timeout=300
# Two guests at once: under TCG a guest keeps about one core busy (a vfio
# run: 1.1 cores), and two together 1.8 of two.
njobs=$(($(nproc) < 2 ? 1 : 2))
extra=
workdir=
total_pass=0
total_fail=0
total_skip=0

usage()
{
	cat <<EOF
Usage: $0 [-h] [-k] [-v] [-j jobs] [-s scenario]... [-t seconds] [-a args]

Boot the pkernfs test kernel (build/bzImage, build/initramfs.cpio; see
'make initramfs') once per scenario and report the results as KTAP.

	-s	run this scenario (repeatable; default: all of them)
	-k	keep the logs in build/vm/SCENARIO/ (default: a temporary directory)
	-v	verbose: keep the harness' RUN/OK lines, print every console log
	-j	boot this many scenarios at once (default: $njobs)
	-t	timeout of one scenario's QEMU run, in seconds (default: $timeout)
	-a	extra kernel command line arguments (e.g. pkt.seed=42)
	-h	this help

Scenarios: $(all_scenarios | tr '\n' ' ')
EOF
}

all_scenarios()
{
	local f

	for f in "$test_dir"/scenarios/*.sh; do
		f=${f##*/}
		[ "$f" = lib.sh ] || echo "${f%.sh}"
	done
}

cleanup()
{
	if [ "$keep" -eq 0 ] && [ -n "$workdir" ]; then
		rm -rf "$workdir"
	fi
}

# skip_all REASON: a missing prerequisite is a skip, not a failure.
skip_all()
{
	echo "1..0 # SKIP $*"
	echo "0 passed, 0 failed, 1 skipped"
	exit 4
}

check_prereqs()
{
	local helpers f

	for helpers in "$test_dir/../kselftest/ktap_helpers.sh" \
		       "$build_dir/linux/tools/testing/selftests/kselftest/ktap_helpers.sh"; do
		[ -f "$helpers" ] && break
	done
	[ -f "$helpers" ] || skip_all "kselftest/ktap_helpers.sh not found"
	# shellcheck source=../kselftest/ktap_helpers.sh
	. "$helpers"

	command -v qemu-system-x86_64 >/dev/null ||
		skip_all "qemu-system-x86_64 not installed"
	command -v timeout >/dev/null || skip_all "timeout not installed"
	[ -x "$qemu_run" ] || skip_all "$qemu_run not found"
	for f in bzImage initramfs.cpio; do
		[ -f "$build_dir/$f" ] ||
			skip_all "no $build_dir/$f: run 'make initramfs'"
	done
}

# scenario_timeout NAME: seconds NAME may run, from scenarios/NAME.timeout
# (for the long ones, such as the 20-kexec soak) or the -t default.
scenario_timeout()
{
	local f="$test_dir/scenarios/$1.timeout"

	if [ -f "$f" ]; then
		sed -e 's/#.*//' "$f" | tr -d ' \n'
	else
		echo "$timeout"
	fi
}

# host_checks DIR RC LIMIT: the host's verdict on one QEMU run, as TAP lines.
host_checks()
{
	local dir=$1 rc=$2 limit=$3 splat guest_pass

	# Only a QEMU that exited by itself with status 0 finished: 124 is the
	# timeout, 137 a QEMU that ignored SIGTERM and was killed, anything
	# else a QEMU that failed.
	case $rc in
	0)	echo "ok - host: QEMU finished within ${limit}s" ;;
	124)	echo "not ok - host: QEMU finished within ${limit}s (timed out)" ;;
	137)	echo "not ok - host: QEMU finished within ${limit}s (killed)" ;;
	*)	echo "not ok - host: QEMU finished within ${limit}s (exit status $rc)" ;;
	esac

	guest_pass=$(grep -E '^ok ' "$dir/output.txt" | grep -vciE '# *skip' || true)
	if [ "$guest_pass" -gt 0 ]; then
		echo "ok - host: the guest passed $guest_pass check(s)"
	else
		echo "not ok - host: the guest passed no check"
	fi

	if grep -qxF "$SENTINEL" "$dir/output.txt"; then
		echo "ok - host: scenario ran to the end"
	else
		echo "not ok - host: scenario ran to the end (no '$SENTINEL')"
	fi

	if splat=$(tr -d '\r' <"$dir/console.log" | grep -aE "$SPLAT"); then
		echo "not ok - host: console log is clean"
		echo "$splat" | head -n 20 | sed 's/^/# /'
	else
		echo "ok - host: console log is clean"
	fi
}

# renumber: number the TAP results of all stages and of the host checks as
# one list; other lines become diagnostics, except kselftest_harness's
# per-test RUN/OK/SKIP chatter unless -v.  Prints 'PASS FAIL SKIP' last.
renumber()
{
	awk -v verbose="$verbose" '
	!verbose && /^#  +(RUN|OK|SKIP) / { next }
	/^(not )?ok / {
		bad = ($0 ~ /^not ok /)
		sub(/^(not )?ok +[0-9]* */, "")
		n++
		if (bad) {
			fail++
			print "not ok " n " " $0
		} else {
			if ($0 ~ /# *[Ss][Kk][Ii][Pp]/)
				skip++
			else
				pass++
			print "ok " n " " $0
		}
		next
	}
	/^Bail out!/ { n++; fail++; print "not ok " n " " $0; next }
	/^(K?TAP version |1\.\.[0-9])/ || /^[ \t]*$/ { next }
	/^#/ { print; next }
	{ print "# " $0 }
	END { print pass + 0, fail + 0, skip + 0 }
	'
}

# boot NAME: run NAME's QEMU; its own output goes to DIR/qemu-run.log, its
# exit status to DIR/qemu-run.rc once it is over.
boot()
{
	local name=$1 dir="$workdir/$1" rc=0

	mkdir -p "$dir"
	rm -f "$dir/qemu-run.rc"
	"$qemu_run" -t "$(scenario_timeout "$name")" -o "$dir" \
		${extra:+-a "$extra"} "$name" >"$dir/qemu-run.log" 2>&1 || rc=$?
	echo "$rc" >"$dir/qemu-run.rc"
}

# boot_all NAME...: boot every NAME, at most $njobs at a time.
boot_all()
{
	local name

	for name in "$@"; do
		while [ "$(jobs -pr | wc -l)" -ge "$njobs" ]; do
			wait -n || true
		done
		boot "$name" &
	done
	wait
}

# run_scenario NAME: wait for NAME's boot, then print its subtest and its
# result line.
run_scenario()
{
	local name=$1 dir="$workdir/$1" rc results pass fail skip
	local limit

	limit=$(scenario_timeout "$name")
	while [ ! -s "$dir/qemu-run.rc" ]; do
		sleep 1
	done
	sed 's/^ */# /' "$dir/qemu-run.log"
	rc=$(cat "$dir/qemu-run.rc")

	tr -d '\r' <"$dir/output.log" >"$dir/output.txt"
	results=$({ cat "$dir/output.txt"; host_checks "$dir" "$rc" "$limit"; } |
		  renumber)
	read -r pass fail skip <<<"$(echo "$results" | tail -n 1)"
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))

	echo "    KTAP version 1"
	echo "    # Subtest: $name"
	echo "    1..$((pass + fail + skip))"
	echo "$results" | sed '$d; s/^/    /'

	if [ "$fail" -gt 0 ]; then
		ktap_test_fail "$name"
	else
		ktap_test_pass "$name"
	fi

	if [ "$fail" -gt 0 ]; then
		echo "# $name: tail of the console log:"
		tr -d '\r' <"$dir/console.log" | tail -n 40 | sed 's/^/# /'
	elif [ "$verbose" -eq 1 ]; then
		tr -d '\r' <"$dir/console.log" | sed 's/^/# /'
	fi
}

main()
{
	local opt name booting

	while getopts 'hkvj:s:t:a:' opt; do
		case $opt in
		s) scenarios="$scenarios $OPTARG" ;;
		k) keep=1 ;;
		v) verbose=1 ;;
		t) timeout=$OPTARG ;;
		j) njobs=$OPTARG ;;
		a) extra=$OPTARG ;;
		h) usage; exit 0 ;;
		*) usage >&2; exit 1 ;;
		esac
	done
	scenarios=${scenarios:-$(all_scenarios)}
	case $njobs in
	''|*[!0-9]*|0) echo "$0: -j wants a number of jobs" >&2; exit 1 ;;
	esac
	for name in $scenarios; do
		if [ ! -f "$test_dir/scenarios/$name.sh" ]; then
			echo "$0: no scenario '$name'" >&2
			exit 1
		fi
	done

	check_prereqs

	trap cleanup EXIT
	if [ "$keep" -eq 1 ]; then
		workdir="$build_dir/vm"
		mkdir -p "$workdir"
	else
		workdir=$(mktemp -d -t pkernfs-vmtest.XXXXXX)
	fi

	for name in $scenarios; do
		rm -f "$workdir/$name/qemu-run.rc"
	done
	# shellcheck disable=SC2086
	boot_all $scenarios &
	booting=$!
	ktap_print_header
	ktap_set_plan "$(echo "$scenarios" | wc -w)"
	for name in $scenarios; do
		run_scenario "$name"
	done
	wait "$booting"

	echo "# Totals: pass:$total_pass fail:$total_fail xfail:0 xpass:0 skip:$total_skip error:0"
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
	[ "$total_fail" -eq 0 ] || exit "$KSFT_FAIL"
}

main "$@"
