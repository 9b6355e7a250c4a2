// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs-fsck: reporting problems, remembering how to fix them, and
 * printing number lists compactly.
 *
 * Every problem is one line on stdout, prefixed with the program name.  A
 * problem that --repair can fix safely carries a fix, which is queued; one
 * without is counted as unfixable, and then --repair changes nothing.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsck.h"

void pkfs_msg(const char *fmt, ...)
{
	va_list ap;

	fputs(PKFS_NAME ": ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Fixes that act on the whole image only need queueing once. */
static bool pkfs_fix_once(enum pkfs_fix_kind kind)
{
	return kind == PKFS_FIX_CHECKSUM || kind == PKFS_FIX_FREE_LIST ||
	       kind == PKFS_FIX_RECLAIM_ORPHANS || kind == PKFS_FIX_ROOT ||
	       kind == PKFS_FIX_STRAYS;
}

static void pkfs_queue_fix(struct pkfs_fsck *f, const struct pkfs_fix *fix)
{
	unsigned int i;

	if (pkfs_fix_once(fix->kind))
		for (i = 0; i < f->nr_fixes; i++)
			if (f->fixes[i].kind == fix->kind)
				return;
	if (f->nr_fixes == f->max_fixes) {
		unsigned int max = f->max_fixes ? 2 * f->max_fixes : 64;
		struct pkfs_fix *fixes = realloc(f->fixes,
						 max * sizeof(*fixes));

		if (!fixes) {
			/* Without the fix, the problem is not fixable. */
			f->unfixable++;
			return;
		}
		f->fixes = fixes;
		f->max_fixes = max;
	}
	f->fixes[f->nr_fixes++] = *fix;
}

/**
 * pkfs_problem() - report one inconsistency
 * @f: the check
 * @fix: how to repair it, or NULL if it cannot be repaired safely
 * @fmt: the message, without prefix or newline
 */
void pkfs_problem(struct pkfs_fsck *f, const struct pkfs_fix *fix,
		  const char *fmt, ...)
{
	va_list ap;

	f->problems++;
	if (fix)
		pkfs_queue_fix(f, fix);
	else
		f->unfixable++;
	if (f->quiet)
		return;
	fputs(PKFS_NAME ": ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	puts(fix ? " (fixable)" : "");
}

/* One problem covering a run of blocks or inodes, fixed by @kind. */
void pkfs_problem_range(struct pkfs_fsck *f, enum pkfs_fix_kind kind,
			uint64_t first, uint64_t last, const char *what,
			const char *why)
{
	struct pkfs_fix fix = { .kind = kind, .a = first, .b = last };

	if (first == last)
		pkfs_problem(f, &fix, "%s %" PRIu64 " %s", what, first, why);
	else
		pkfs_problem(f, &fix, "%ss %" PRIu64 "-%" PRIu64 " %s", what,
			     first, last, why);
}

static void pkfs_runs_flush(struct pkfs_runs *r)
{
	if (!r->open)
		return;
	printf("%s%" PRIu64, r->printed++ ? "," : "", r->first);
	if (r->last != r->first)
		printf("-%" PRIu64, r->last);
	r->open = false;
}

/* Add @n to a run list being printed, collapsing consecutive numbers. */
void pkfs_runs_add(struct pkfs_runs *r, uint64_t n)
{
	r->count++;
	if (r->open && n == r->last + 1) {
		r->last = n;
		return;
	}
	pkfs_runs_flush(r);
	r->first = n;
	r->last = n;
	r->open = true;
}

void pkfs_runs_end(struct pkfs_runs *r)
{
	pkfs_runs_flush(r);
	if (!r->printed)
		printf("-");
}
