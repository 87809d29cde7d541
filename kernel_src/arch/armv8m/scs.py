"""The ARMv8-M System Control Space: SCB, SysTick and fault-status registers (private to arch/armv8m).

Addresses, offsets and bits from the ARMv8-M Architecture Reference Manual
(Arm DDI 0553), chapter D1 "Register Specification" and B3.2 "System address
map": the SCS is at 0xE000_E000, the SysTick at +0x010, the SCB at +0xD00.
The kernel always uses these addresses, never the Non-secure alias at
0xE002_E000. On mps2-an505 (the Security Extension present, Secure state after
reset) they reach the Secure instances of the banked registers (VTOR_S, the
Secure SysTick). On an STM32L5 with TrustZone disabled (option bit TZEN = 0,
the Nucleo's factory state) the core has only the Non-secure programmer's
model (ST RM0438, "System security"): the same addresses reach the one,
Non-secure, instance, and the SecureFault registers (SFSR, SFAR,
SHCSR.SECUREFAULTENA) read as zero and ignore writes (their register
descriptions in chapter D1).
"""

from kcc.lang import *

SYST_BASE: Final = 0xE000_E010
SCB_BASE: Final = 0xE000_ED00
SFSR_ADDR: Final = 0xE000_EDE4          # SecureFault status register
SFAR_ADDR: Final = 0xE000_EDE8          # SecureFault address register

# SYST_CSR (D1.2.253).
SYST_CSR_ENABLE: Final = 1 << 0
SYST_CSR_TICKINT: Final = 1 << 1
SYST_CSR_CLKSOURCE: Final = 1 << 2      # 1: the processor clock
SYST_CSR_COUNTFLAG: Final = 1 << 16     # counted to 0 since the last read; reading clears it
SYST_MAX_RELOAD: Final = 0x00FF_FFFF     # SYST_RVR is 24 bits wide

# ICSR (D1.2.125).
ICSR_PENDSTCLR: Final = 1 << 25
ICSR_PENDSTSET: Final = 1 << 26

# SHCSR (D1.2.217): enable the configurable faults so they are not escalated to HardFault.
SHCSR_MEMFAULTENA: Final = 1 << 16
SHCSR_BUSFAULTENA: Final = 1 << 17
SHCSR_USGFAULTENA: Final = 1 << 18
SHCSR_SECUREFAULTENA: Final = 1 << 19

# CFSR (D1.2.90) = UFSR[31:16] | BFSR[15:8] | MMFSR[7:0]; bits are write-one-to-clear.
CFSR_MMARVALID: Final = 1 << 7
CFSR_BFARVALID: Final = 1 << 15
CFSR_UNDEFINSTR: Final = 1 << 16
CFSR_STKOF: Final = 1 << 20

# HFSR (D1.2.122).
HFSR_FORCED: Final = 1 << 30


@struct
class SysTick:
    """SYST_CSR, SYST_RVR, SYST_CVR, SYST_CALIB at 0xE000_E010 (D1.2.253..256)."""

    csr: Reg[u32]
    rvr: Reg[u32]
    cvr: Reg[u32]       # any write clears the counter and COUNTFLAG
    calib: Reg[u32]


@struct
class Scb:
    """The System Control Block at 0xE000_ED00, CPUID through AFSR."""

    cpuid: Reg[u32]     # +0x00
    icsr: Reg[u32]      # +0x04 interrupt control and state
    vtor: Reg[u32]      # +0x08 vector table offset
    aircr: Reg[u32]     # +0x0C
    scr: Reg[u32]       # +0x10
    ccr: Reg[u32]       # +0x14
    shpr1: Reg[u32]     # +0x18
    shpr2: Reg[u32]     # +0x1C
    shpr3: Reg[u32]     # +0x20 priorities of PendSV and SysTick
    shcsr: Reg[u32]     # +0x24 system handler control and state
    cfsr: Reg[u32]      # +0x28 configurable fault status
    hfsr: Reg[u32]      # +0x2C HardFault status
    dfsr: Reg[u32]      # +0x30
    mmfar: Reg[u32]     # +0x34 MemManage fault address
    bfar: Reg[u32]      # +0x38 BusFault address
    afsr: Reg[u32]      # +0x3C


def primask_save_disable() -> u32:
    """Mask configurable-priority exceptions (PRIMASK = 1) and return PRIMASK's previous value."""
    old = asm("mrs {out}, primask", out=u32)
    asm("cpsid i", clobbers=("memory",))
    return old


def primask_restore(saved: u32) -> None:
    """Write back a PRIMASK value from primask_save_disable()."""
    asm("msr primask, {0}", saved, clobbers=("memory",))
