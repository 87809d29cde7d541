"""Init's initial capability slots: the contract between the kernel that starts init and init itself.

The kernel fills these slots of init's capability table before init's first
instruction (issue 6, item 7: init starts holding capabilities to itself, the
initrd's frames, IRQ control, the device regions and a debug console; its
memory quota is its own process's). Every other slot is empty, so init may
use ``INIT_FIRST_FREE`` and up as it likes. Portable: the same numbers on every
architecture, compiled into the kernel and into init from this one source.
"""

from kcc.lang import *

SLOT_SELF_PROCESS: Final = 0    # init's own process (address space, capability table, memory quota)
SLOT_SELF_THREAD: Final = 1     # init's own (first) thread
SLOT_CONSOLE: Final = 2         # the kernel's debug console (KIND_CONSOLE)
SLOT_IRQ_CONTROL: Final = 3     # the right to claim interrupt lines (KIND_IRQ_CONTROL)
SLOT_INITRD: Final = 4          # the initial RAM disk's pages, a read-only frame (KIND_FRAME)
SLOT_DEVICES: Final = 5         # the first device region (KIND_DEVICE): the console UART comes first
MAX_DEVICES: Final = 8          # device slots SLOT_DEVICES .. SLOT_DEVICES + MAX_DEVICES - 1; unused ones are empty
# Init's own image, one frame per segment (so init can share its code with the processes it builds):
SLOT_TEXT: Final = SLOT_DEVICES + MAX_DEVICES           # text, read + execute (13)
SLOT_RODATA: Final = SLOT_TEXT + 1                      # read-only data (empty when the program has none)
SLOT_DATA: Final = SLOT_TEXT + 2                        # data and bss, read + write
SLOT_STACK: Final = SLOT_TEXT + 3                       # the stack below USER_STACK_TOP, read + write
INIT_FIRST_FREE: Final = SLOT_TEXT + 4                  # the first slot the kernel leaves empty (17)
