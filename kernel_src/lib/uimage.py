"""The flat user-program image: the small header kcc build writes and the kernel reads to start init.

The kernel knows no executable format (the ELF loader is a user program); it
only starts init, from an image that is the program's bytes from its first
page to the end of its initialised data, preceded by this header. Every
segment boundary is page aligned (the user link script, linker/user-*.ld.j2,
aligns them), so each segment gets one set of page permissions: W^X holds.

    offset 0             UserImage (HEADER_SIZE bytes, little-endian)
    offset HEADER_SIZE   text (R+X), rodata (R), data (R+W): text_size + rodata_size + data_size bytes
                         bss (R+W, zero) follows data in memory, bss_size bytes, not in the file

The same structure is written by kcc/userimage.py (struct format "<IIQQQQQQ").
"""

from kcc.lang import *

MAGIC: Final = 0x4D49554B       # "KUIM" read as a little-endian u32
VERSION: Final = 1
HEADER_SIZE: Final = 64         # sizeof(UserImage) rounded up: the payload starts 8-byte aligned


@struct
class UserImage:
    """The header at the start of a flat user image; every size in bytes, every address virtual."""

    magic: u32          # MAGIC
    version: u32        # VERSION
    entry: u64          # the first instruction (inside text)
    base: u64           # where text starts; page aligned
    text_size: u64      # page aligned; mapped read + execute
    rodata_size: u64    # page aligned; mapped read-only
    data_size: u64      # initialised data in the file; data + bss mapped read + write
    bss_size: u64       # zero-filled bytes after data (data_size + bss_size rounded up to pages)
