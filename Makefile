# SPDX-License-Identifier: GPL-2.0
#
# Build, boot and test pkernfs under QEMU.  'make help' lists the targets.
# Everything generated goes to build/: the kernel tree (build/linux), the
# images, the logs and ccache's cache.

SHELL := /bin/bash
S := scripts
VMTEST := tools/testing/selftests/pkernfs/vmtest.sh

# Extra arguments for vmtest.sh, e.g. make check VMTEST_ARGS='-s badsb -k'
VMTEST_ARGS ?=
# Extra arguments for scripts/bench.sh, e.g. make bench BENCH_ARGS='-f 6'
BENCH_ARGS ?=
# Extra arguments for scripts/cleanroom.sh, e.g. make cleanroom CLEANROOM_ARGS='-s deps'
CLEANROOM_ARGS ?=

.PHONY: help deps tree kernel selftests initramfs demo check bench lint cleanroom \
	clean distclean

help:
	@echo 'Targets:'
	@echo '  make demo       build, boot, write files to pkernfs, live update, show they survived'
	@echo '  make check      build, then run every test scenario under QEMU (KTAP)'
	@echo '  make kernel     install packages, prepare build/linux, build build/bzImage'
	@echo '  make initramfs  also build the selftests, build/initramfs.cpio and build/vmm.img'
	@echo '  make bench      measure pkernfs against tmpfs, hugetlbfs and a plain kexec (build/bench/)'
	@echo '  make lint       checkpatch --strict, kernel-doc, sparse, W=1 and docutils on our files'
	@echo '  make cleanroom  run demo and check from a clean clone in a fresh Debian 12 root (build/cleanroom/)'
	@echo '  make clean      remove the images, selftests and VM logs'
	@echo '  make distclean  remove build/ entirely (the next build starts cold)'

deps:
	@$(S)/deps.sh

tree: deps
	@$(S)/prepare-tree.sh

kernel: tree
	@$(S)/build-kernel.sh

selftests: kernel
	@$(S)/build-selftests.sh

initramfs: selftests
	@$(S)/mkinitramfs.sh
	@$(S)/mkvmmdisk.sh

demo: initramfs
	@$(S)/qemu-run.sh -f -t 300 demo

# .ci/run does the same without make, to end on the summary line.
check: initramfs
	@$(VMTEST) $(VMTEST_ARGS)

# Not part of check: it measures, in about 10 minutes, and judges nothing.
bench: initramfs
	@$(S)/bench.sh $(BENCH_ARGS)

# sparse and W=1 need the configured tree that 'make kernel' leaves.
lint: kernel
	@$(S)/lint.sh

# Not part of check: a fresh Debian 12 root, so it starts cold every time.
cleanroom: deps
	@$(S)/cleanroom.sh $(CLEANROOM_ARGS)

clean:
	rm -rf build/bzImage build/initramfs.cpio build/initramfs.list \
		build/vmm build/vmm.img build/inner \
		build/selftests build/vm build/logs build/bench

distclean:
	rm -rf build
