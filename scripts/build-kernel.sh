#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build the pkernfs test kernel in build/linux and copy the
# image to build/bzImage.
#
# The configuration is 'make tinyconfig' plus the top-level Kconfig fragment,
# redone only when the fragment or the Kconfig files pkernfs adds change.
# Every option the fragment sets must survive 'make olddefconfig'.  Usage:
# build-kernel.sh [-f]   (-f: reconfigure even if nothing changed)

set -eu

. "$(dirname "$0")/common.sh"

stamp="$build/.config-stamp"
logs="$build/logs"

# config_key: what the configuration depends on besides the tree itself.
config_key()
{
	cat "$fragment" "$ksrc/fs/Kconfig" "$ksrc"/fs/pkernfs/Kconfig* \
		2>/dev/null | sha256sum | cut -d' ' -f1
}

# check_config: every CONFIG_X=y of the fragment is in .config and every
# '# CONFIG_X is not set' is not, as tools/testing/selftests/kho/vmtest.sh does.
# No exception, CONFIG_PKERNFS_FS included: a kernel without it would turn
# every scenario into a failure at best, so the build stops here.
check_config()
{
	local line opt missing=

	while read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qx "$line" "$ksrc/.config" && continue
			opt=${line%%=*}
			;;
		"# CONFIG_"*" is not set")
			opt=${line#"# "}
			opt=${opt%" is not set"}
			grep -q "^$opt=" "$ksrc/.config" || continue
			line="# $opt is not set"
			;;
		*)
			continue
			;;
		esac
		missing="$missing $line"
	done <"$fragment"

	[ -z "$missing" ] && return 0
	rm -f "$stamp"
	say KERNEL "options missing from .config after olddefconfig:"
	printf '    %s\n' $missing
	die "fix the Kconfig fragment (dependencies?)"
}

configure()
{
	local key

	key=$(config_key)
	if [ -f "$ksrc/.config" ] && [ -f "$stamp" ] &&
	   [ "$(cat "$stamp")" = "$key" ]; then
		return 0
	fi

	say KERNEL configure
	(
		kmake tinyconfig
		cd "$ksrc"
		scripts/kconfig/merge_config.sh -m .config "$fragment"
		kmake olddefconfig
	) >"$logs/config.log" 2>&1 || {
		tail -n 20 "$logs/config.log"
		die "configuration failed, see build/logs/config.log"
	}
	check_config
	echo "$key" >"$stamp"
}

build()
{
	local img="$ksrc/arch/x86/boot/bzImage"

	run_long KERNEL "build bzImage" "$logs/kbuild.log" kmake bzImage
	if ! cmp -s "$img" "$build/bzImage"; then
		cp "$img" "$build/bzImage"
	fi
	# The guest reads the configuration of the image it runs.
	cp "$ksrc/.config" "$build/bzImage.config"
	say KERNEL "build/bzImage ($(($(stat -c %s "$build/bzImage") / 1024)) KiB)"
}

main()
{
	[ "${1:-}" = -f ] && rm -f "$stamp"
	[ -d "$ksrc" ] || die "no build/linux: run scripts/prepare-tree.sh"
	mkdir -p "$logs" "$CCACHE_DIR"
	kbuild_lock
	configure
	build
}

main "$@"
