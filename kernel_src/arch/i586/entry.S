/* i586 boot entry: the Multiboot v1 header, then _start: own GDT, stack, FPU off, zero .bss, kmain. */

/*
 * Multiboot Specification 0.6.96, section 3.1: the header (magic, flags,
 * checksum; the three sum to 0 mod 2^32) lies 4-byte aligned in the first
 * 8192 bytes of the image. Flags: bit 0 = align boot modules on 4 KiB pages,
 * bit 1 = the information must carry mem_* (and the memory map when the
 * loader has one). Bit 16 stays clear: the loader reads the ELF program
 * headers instead of address fields. The link script puts .multiboot first.
 */
#define MULTIBOOT_HEADER_MAGIC      0x1BADB002
#define MULTIBOOT_BOOTLOADER_MAGIC  0x2BADB002
#define MULTIBOOT_PAGE_ALIGN        (1 << 0)
#define MULTIBOOT_MEMORY_INFO       (1 << 1)
#define MULTIBOOT_FLAGS             (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

/* Selectors of the GDT below (index * 8, table indicator 0, RPL 0). */
#define KERNEL_CS   0x08
#define KERNEL_DS   0x10

/* CR0.EM (Intel SDM vol. 3A, 2.5): x87 instructions raise #NM and MMX/SSE ones #UD. */
#define CR0_EM      (1 << 2)

    .section .multiboot, "a", @progbits
    .balign 4
    .globl __multiboot_header
__multiboot_header:
    .long   MULTIBOOT_HEADER_MAGIC
    .long   MULTIBOOT_FLAGS
    .long   -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_FLAGS)

/*
 * State at entry (Multiboot 0.6.96, section 3.2 "Machine state"): 32-bit
 * protected mode, paging off, interrupts off (EFLAGS.IF = 0), CS/DS/ES/FS/GS/SS
 * flat 4 GiB segments but GDTR possibly invalid, ESP undefined,
 * EAX = 0x2BADB002 and EBX = the physical address of the Multiboot information.
 * Only the bootstrap processor runs; the others wait for an INIT IPI.
 */
    .section .text.entry, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    /* rdtsc overwrites eax, so the loader's magic moves first; the time-stamp
       counter is then read as close to entry as possible (boot cost). DS is
       already a flat data segment, so the stores work before the GDT is ours. */
    movl    %eax, %ecx
    rdtsc
    movl    %eax, boot_instret
    movl    %edx, boot_instret + 4

    cli
    cld
    /* The loader's GDT may be gone: load ours and reload every segment register. */
    lgdt    gdt_pointer
    ljmp    $KERNEL_CS, $1f
1:  movw    $KERNEL_DS, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %fs
    movw    %ax, %gs
    movw    %ax, %ss
    /* One CPU, so the first (topmost) stack; 16-byte aligned by the link script. */
    movl    $__stack_top, %esp

    /* boot_info for kmain: the Multiboot information, or 0 when no Multiboot loader entered us. */
    xorl    %esi, %esi
    cmpl    $MULTIBOOT_BOOTLOADER_MAGIC, %ecx
    jne     2f
    movl    %ebx, %esi
2:
    /* Kernel code is built without x87/MMX/SSE (kcc/targets/i586.py); make a stray
       FPU instruction trap rather than run, so trap entry never has FPU state to save. */
    movl    %cr0, %eax
    orl     $CR0_EM, %eax
    movl    %eax, %cr0

    /* Zero .bss. The Multiboot information lies outside the image, so it survives. */
    movl    $__bss_start, %edi
    movl    $__bss_end, %ecx
    subl    %edi, %ecx
    xorl    %eax, %eax
    rep stosb

    /* kmain(hartid = 0, boot_info) with the cdecl convention; the i386 psABI wants
       esp 16-byte aligned at the call, so 8 bytes of padding precede the two arguments. */
    xorl    %ebp, %ebp
    subl    $8, %esp
    pushl   %esi
    pushl   $0
    call    kmain

    /* kmain powers the machine off; if it ever returns, stop here. */
park:
    cli
3:  hlt
    jmp     3b
    .size _start, . - _start

/*
 * The flat GDT (Intel SDM vol. 3A, 3.4.5 "Segment Descriptors"): base 0, limit
 * 0xFFFFF in 4 KiB units (G = 1), 32-bit (D/B = 1), ring 0. Access bytes 0x9B
 * (present, code, execute/read) and 0x93 (present, data, read/write) have the
 * accessed bit preset, so the CPU never writes to this read-only table.
 */
    .section .rodata, "a", @progbits
    .balign 8
gdt:
    .quad   0                                   /* 0x00: the null descriptor */
    .word   0xFFFF, 0x0000
    .byte   0x00, 0x9B, 0xCF, 0x00              /* 0x08: kernel code */
    .word   0xFFFF, 0x0000
    .byte   0x00, 0x93, 0xCF, 0x00              /* 0x10: kernel data */
gdt_end:

    .balign 4
    .word   0                                   /* aligns the base field below */
gdt_pointer:
    .word   gdt_end - gdt - 1                   /* limit: size - 1 */
    .long   gdt

    .section .data, "aw", @progbits
    .balign 8
    .globl boot_instret
boot_instret:
    .quad   0
