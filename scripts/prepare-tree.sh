#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make build/linux a Linux 6.12 tree carrying pkernfs:
#  1. unpack /usr/src/linux-source-6.12.tar.xz, only if build/linux is absent;
#  2. overlay the new files this repository owns, copying only the files that
#     changed so that unchanged files keep their mtime and rebuilds stay
#     incremental (a changed file gets the current time, never an older
#     one than its object), and deleting files that were removed here;
#  3. apply patches/ (a 'git format-patch' series, ordered by patches/series
#     if present, else by name).  The applied series is kept in
#     build/applied/; when patches/ changes, only the patches from the first
#     difference on are reverse-applied and the new ones applied.

set -eu

. "$(dirname "$0")/common.sh"

overlay_paths="
	fs/pkernfs
	include/linux/pkernfs.h
	include/uapi/linux/pkernfs*.h
	Documentation/filesystems/pkernfs.rst
	tools/testing/selftests/pkernfs
"
applied="$build/applied"
manifest="$build/overlay.list"

unpack()
{
	local tmp="$build/linux.tmp"

	[ -d "$ksrc" ] && return 0
	[ -f "$ktarball" ] || die "$ktarball missing (scripts/deps.sh installs it)"

	rm -rf "$tmp" "$applied" "$manifest" "$build/.config-stamp"
	mkdir -p "$tmp"
	run_long TREE "unpack ${ktarball##*/}" "$build/unpack.log" \
		tar -xf "$ktarball" -C "$tmp" --strip-components=1
	mv "$tmp" "$ksrc"
}

# overlay_files: the files to overlay, relative to the repository.
overlay_files()
{
	local path

	cd "$repo"
	# shellcheck disable=SC2086
	for path in $overlay_paths; do
		[ -e "$path" ] && find "$path" -type f
	done | sort
}

overlay()
{
	local f n=0 gone=0 new="$manifest.new"

	overlay_files >"$new"
	while read -r f; do
		cmp -s "$repo/$f" "$ksrc/$f" && continue
		mkdir -p "$(dirname "$ksrc/$f")"
		cp --preserve=mode "$repo/$f" "$ksrc/$f"
		n=$((n + 1))
	done <"$new"

	if [ -f "$manifest" ]; then
		while read -r f; do
			rm -f "$ksrc/$f"
			gone=$((gone + 1))
		done < <(comm -23 "$manifest" "$new")
	fi
	mv "$new" "$manifest"

	[ "$n" -eq 0 ] && [ "$gone" -eq 0 ] && return 0
	say TREE "overlay: $n file(s) updated, $gone removed"
}

# series: the patches to apply, in order, as paths relative to patches/.
series()
{
	local dir="$repo/patches"

	if [ -f "$dir/series" ]; then
		sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$dir/series"
	elif [ -d "$dir" ]; then
		find "$dir" -maxdepth 1 -name '*.patch' -printf '%f\n' | sort
	fi
}

# unapply_from N: reverse-apply the applied patches N and later, last first.
unapply_from()
{
	local i=$1 count name

	count=$(wc -l <"$applied/series")
	while [ "$count" -ge "$i" ]; do
		name=$(sed -n "${count}p" "$applied/series")
		say PATCH "revert $name"
		patch -d "$ksrc" -R -p1 -s --no-backup-if-mismatch \
			<"$applied/$count.patch" ||
			die "cannot revert $name; remove build/linux to start over"
		rm "$applied/$count.patch"
		sed -i "${count}d" "$applied/series"
		count=$((count - 1))
	done
}

apply_patches()
{
	local i=0 first=0 name names

	mkdir -p "$applied"
	touch "$applied/series"
	names=$(series)

	# Find the first patch that differs from what build/linux carries.
	for name in $names; do
		i=$((i + 1))
		[ -f "$repo/patches/$name" ] || die "patches/$name listed but missing"
		if [ "$(sed -n "${i}p" "$applied/series")" != "$name" ] ||
		   ! cmp -s "$repo/patches/$name" "$applied/$i.patch"; then
			first=$i
			break
		fi
	done
	if [ "$first" -eq 0 ]; then
		# Every listed patch is applied; drop any applied beyond them.
		first=$((i + 1))
	fi
	unapply_from "$first"

	i=0
	for name in $names; do
		i=$((i + 1))
		[ "$i" -lt "$first" ] && continue
		say PATCH "apply $name"
		patch -d "$ksrc" -p1 -s -N --dry-run <"$repo/patches/$name" \
			>/dev/null || die "patches/$name does not apply"
		patch -d "$ksrc" -p1 -s -N --no-backup-if-mismatch \
			<"$repo/patches/$name"
		cp "$repo/patches/$name" "$applied/$i.patch"
		echo "$name" >>"$applied/series"
	done
}

main()
{
	mkdir -p "$build"
	unpack
	kbuild_lock
	overlay
	apply_patches
}

main "$@"
