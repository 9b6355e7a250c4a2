// SPDX-License-Identifier: GPL-2.0-only
/*
 * The inner guest of the qemu-lu scenario: a freestanding program, no OS,
 * that a real QEMU runs as its VM inside the test guest.  It proves that
 * it was never rebooted and that none of its RAM changed across a live
 * update of the host under it:
 *
 * - at boot it draws a boot id from the TSC and the RTC, and fills every usable word of
 *   RAM above 2 MiB with a pattern of the word's address and that id;
 * - then it counts, forever, and answers its serial port (COM1):
 *	's'	"inner: status boot ID counter N state ADDR"
 *	'v'	"inner: verify boot ID counter N words W bad B first ADDR",
 *		after reading back every word it filled.
 *
 * A VMM that saved the VM, went away for a host kexec and restored it
 * sees the same boot id, a counter that went on from where it stopped,
 * and "bad 0".  The state (boot id and counter) sits at ADDR, so the
 * harness can also read it from guest-physical memory while the VM is
 * paused (QMP "xp"), before and after the update, and compare exactly.
 */

#include "inner_guest.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define COM1		0x3f8
#define UART_LSR	5
#define UART_LSR_DR	0x01	/* a received byte is waiting */
#define UART_LSR_THRE	0x20	/* the transmitter can take a byte */

#define MB_LOADER_MAGIC	0x2badb002
#define MB_INFO_MMAP	(1u << 6)
#define MB_MMAP_RAM	1

#define PATTERN_START	0x200000ull	/* below: this program, BIOS data */
#define PATTERN_END	0x100000000ull	/* 32-bit addresses only */

struct mb_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
};

struct mb_mmap_entry {
	u32 size;		/* of the rest of the entry */
	u64 base, length;
	u32 type;
} __attribute__((packed));

/* What the harness also reads through QMP (inner_guest.h). */
volatile struct inner_state state;

/* The 'pc' machine's map has half a dozen; RAM past the 16th goes unused. */
#define MAX_RANGES 16
static struct { u32 start, end; } ranges[MAX_RANGES];
static unsigned int nr_ranges;

static inline void outb(u16 port, u8 val)
{
	asm volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 val;

	asm volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* Seconds, minutes, hours and day of the RTC, as they read (BCD or not). */
static u32 rtc_stamp(void)
{
	static const u8 regs[] = { 0x00, 0x02, 0x04, 0x07 };
	u32 v = 0;
	unsigned int i;

	for (i = 0; i < sizeof(regs); i++) {
		outb(0x70, regs[i]);
		v = v << 8 | inb(0x71);
	}
	return v;
}

static void put_char(char c)
{
	while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1, c);
}

static void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

static void put_hex(u64 v, int digits)
{
	while (digits--)
		put_char("0123456789abcdef"[(v >> (4 * digits)) & 0xf]);
}

/* n / 10 without libgcc's 64-bit division (a 32-bit build has none). */
static u64 div10(u64 n, unsigned int *rem)
{
	u64 q = (n >> 1) + (n >> 2);
	u64 r;

	q += q >> 4;
	q += q >> 8;
	q += q >> 16;
	q += q >> 32;
	q >>= 3;
	r = n - ((q << 3) + (q << 1));
	if (r > 9) {
		q++;
		r -= 10;
	}
	*rem = r;
	return q;
}

static void put_dec(u64 v)
{
	char buf[21];
	int i = sizeof(buf);
	unsigned int digit;

	buf[--i] = '\0';
	do {
		v = div10(v, &digit);
		buf[--i] = '0' + digit;
	} while (v);
	put_str(buf + i);
}

static inline u32 pattern(u32 addr, u64 boot_id)
{
	return (addr * 0x9e3779b1u) ^ (u32)boot_id ^ (u32)(boot_id >> 32);
}

/* The usable RAM of the Multiboot memory map, clipped to the pattern's. */
static void find_ranges(const struct mb_info *mbi)
{
	u32 off = 0;

	if (!(mbi->flags & MB_INFO_MMAP))
		return;
	while (off < mbi->mmap_length && nr_ranges < MAX_RANGES) {
		const struct mb_mmap_entry *e =
			(const void *)(mbi->mmap_addr + off);
		u64 start = e->base, end = e->base + e->length;

		off += e->size + sizeof(e->size);
		if (e->type != MB_MMAP_RAM)
			continue;
		if (start < PATTERN_START)
			start = PATTERN_START;
		if (end >= PATTERN_END)
			end = PATTERN_END - 4096;
		start = (start + 3) & ~3ull;
		end &= ~3ull;
		if (start >= end)
			continue;
		ranges[nr_ranges].start = start;
		ranges[nr_ranges].end = end;
		nr_ranges++;
	}
}

static void fill(void)
{
	unsigned int i;

	for (i = 0; i < nr_ranges; i++) {
		u32 a;

		for (a = ranges[i].start; a < ranges[i].end; a += 4)
			*(volatile u32 *)a = pattern(a, state.boot_id);
	}
}

static void verify(void)
{
	u64 words = 0, bad = 0;
	u32 first = 0;
	unsigned int i;

	for (i = 0; i < nr_ranges; i++) {
		u32 a;

		for (a = ranges[i].start; a < ranges[i].end; a += 4) {
			if (*(volatile u32 *)a != pattern(a, state.boot_id)) {
				if (!bad++)
					first = a;
			}
			words++;
		}
	}
	put_str(INNER_VERIFY " boot ");
	put_hex(state.boot_id, 16);
	put_str(" counter ");
	put_dec(state.counter);
	put_str(" words ");
	put_dec(words);
	put_str(" bad ");
	put_dec(bad);
	put_str(" first ");
	put_hex(first, 8);
	put_str("\n");
}

static void status(void)
{
	put_str(INNER_STATUS " boot ");
	put_hex(state.boot_id, 16);
	put_str(" counter ");
	put_dec(state.counter);
	put_str(" state ");
	put_hex((u32)&state, 8);
	put_str("\n");
}

void guest_main(u32 magic, const struct mb_info *mbi);

void guest_main(u32 magic, const struct mb_info *mbi)
{
	u64 bytes = 0;
	unsigned int i;

	if (magic != MB_LOADER_MAGIC) {
		put_str("inner: not started by a Multiboot loader\n");
		return;
	}
	find_ranges(mbi);
	for (i = 0; i < nr_ranges; i++)
		bytes += ranges[i].end - ranges[i].start;
	/* Odd, so never 0: which boot of which VM, not a secret. */
	state.boot_id = (rdtsc() ^ ((u64)rtc_stamp() << 32)) | 1;
	put_str("inner: boot ");
	put_hex(state.boot_id, 16);
	put_str(" filling ");
	put_dec(bytes >> 20);
	put_str(" MiB\n");
	fill();
	state.magic = INNER_STATE_MAGIC;
	put_str("inner: ready\n");

	for (;;) {
		state.counter++;
		if (!(inb(COM1 + UART_LSR) & UART_LSR_DR))
			continue;
		switch (inb(COM1)) {
		case INNER_CMD_STATUS:
			status();
			break;
		case INNER_CMD_VERIFY:
			verify();
			break;
		}
	}
}
