/* SPDX-License-Identifier: MIT */
/*
 * bench-nolibc-true: /bin/true without a C library (x86-64 only): exit(0) at
 * its first instruction. bench/sandbox-start.sh times it beside /bin/true:
 * the difference is what a C library's start costs every exec (glibc probes
 * the CPU's caches with CPUID, which a virtual machine traps).
 */
void _start(void);

__attribute__((noreturn)) void _start(void)
{
	__asm__ volatile("mov $231, %eax\n\t" /* exit_group */
			 "xor %edi, %edi\n\t"
			 "syscall");
	__builtin_unreachable();
}
