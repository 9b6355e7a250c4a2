/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entry of the inner guest: a Multiboot (version 1) header, which QEMU's
 * -kernel understands, and the code that the loader jumps to in 32-bit
 * protected mode with paging off, EAX holding the Multiboot magic and EBX
 * the address of the Multiboot information.
 */

#define MB_HEADER_MAGIC	0x1badb002
/* Bit 0: modules page aligned; bit 1: give us the memory map. */
#define MB_HEADER_FLAGS	0x00000003

	.section .multiboot, "a"
	.balign 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.text
	.globl _start
_start:
	cli
	movl	$stack_top, %esp
	pushl	%ebx
	pushl	%eax
	call	guest_main
1:	hlt
	jmp	1b

	.bss
	.balign 16
stack:
	.skip	16384
stack_top:

	.section .note.GNU-stack, "", @progbits
