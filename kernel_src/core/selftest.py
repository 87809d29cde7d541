"""The boot self-test: page allocator, kprintf formats, timer ticks, a caught breakpoint; one PASS/FAIL line each."""

import board
from kcc.lang import *

from arch import cpu, timer
from core import events
from lib import kprintf as fmt
from lib import pagealloc, string
from lib.memmap import MemRegion

TIMER_TICKS: Final = 10
TIMER_LIMIT_SECONDS: Final = 5      # give up on ticks after this long
SAMPLE_PAGES: Final = 4
RUN_PAGES: Final = 8
# Written to the first and last word of sample pages to prove they are RAM the kernel may use.
PATTERN: Final = 0x5A5A_1234_C3C3_8765

_run: u32 = 0
_failed: u32 = 0
_pages: Array[usize, SAMPLE_PAGES]
_buf: Array[u8, 96]
_idle_instructions: u64 = 0


def total() -> u32:
    """Return how many tests have run."""
    return _run


def _pass(name: Ptr[u8]) -> bool:
    """Count and print a passed test; returns True."""
    global _run
    _run += 1
    fmt.kprintf("PASS: %s\n", usize(name))
    return True


def _fail(name: Ptr[u8], detail: Ptr[u8], a: usize = 0, b: usize = 0, c: usize = 0) -> bool:
    """Count and print a failed test with ``detail`` formatted with a, b, c; returns False."""
    global _run, _failed
    _run += 1
    _failed += 1
    fmt.kprintf("FAIL: %s (", usize(name))
    fmt.kprintf(detail, a, b, c)
    fmt.kprintf(")\n")
    return False


def _usable(page: usize, ram: Ptr[MemRegion], nram: u32, holes: Ptr[MemRegion], nholes: u32) -> bool:
    """Return True when the whole page lies in one RAM region and overlaps no hole."""
    end = page + pagealloc.PAGE_SIZE
    inside = False
    i: u32 = 0
    while i < nram:
        if ram[i].base <= page and end <= ram[i].base + ram[i].size:
            inside = True
        i += 1
    i = 0
    while i < nholes:
        if page < holes[i].base + holes[i].size and holes[i].base < end:
            return False
        i += 1
    return inside


def test_pagealloc(ram: Ptr[MemRegion], nram: u32, holes: Ptr[MemRegion], nholes: u32) -> bool:
    """Alloc a few pages, check them, free one and get it back, free all and check the counts."""
    name: Ptr[u8] = "pagealloc alloc/free/reuse"
    before = pagealloc.free_pages()
    if before < SAMPLE_PAGES:
        return _fail(name, "only %u free pages", before)
    for i in range(u32(0), SAMPLE_PAGES):
        page = pagealloc.alloc()
        _pages[i] = page
        if page == 0:
            return _fail(name, "alloc %u returned 0 with %u pages free", usize(i), before - usize(i))
        if page & (pagealloc.PAGE_SIZE - 1) != 0:
            return _fail(name, "page %p is not aligned to %u", page, pagealloc.PAGE_SIZE)
        if not _usable(page, ram, nram, holes, nholes):
            return _fail(name, "page %p is outside free RAM", page)
        for j in range(u32(0), i):
            if _pages[j] == page:
                return _fail(name, "page %p handed out twice", page)
        words = cast(Ptr[u64], page)
        words[0] = PATTERN
        words[pagealloc.PAGE_SIZE // 8 - 1] = ~u64(PATTERN)
    for i in range(u32(0), SAMPLE_PAGES):
        words = cast(Ptr[u64], _pages[i])
        if words[0] != PATTERN or words[pagealloc.PAGE_SIZE // 8 - 1] != ~u64(PATTERN):
            return _fail(name, "page %p does not keep what was written", _pages[i])
    if pagealloc.free_pages() != before - SAMPLE_PAGES:
        return _fail(name, "%u pages free after %u allocs from %u", pagealloc.free_pages(),
                     SAMPLE_PAGES, before)
    pagealloc.free(_pages[1])
    again = pagealloc.alloc()
    if again != _pages[1]:
        return _fail(name, "freed %p but the next alloc gave %p", _pages[1], again)
    for i in range(u32(0), SAMPLE_PAGES):
        pagealloc.free(_pages[i])
    if pagealloc.free_pages() != before:
        return _fail(name, "%u pages free after freeing all, %u before", pagealloc.free_pages(), before)
    # Lowest first: the first page handed out is the lowest free one, whatever order the frees came in.
    lowest = pagealloc.alloc()
    if lowest != _pages[0]:
        return _fail(name, "got %p after freeing all, the lowest freed was %p", lowest, _pages[0])
    pagealloc.free(lowest)
    return _pass(name)


def test_pagealloc_exhaust() -> bool:
    """Allocate every page (chaining them through their first word), check 0 at the end, free them all."""
    name: Ptr[u8] = "pagealloc exhaust and refill"
    before = pagealloc.free_pages()
    chain: usize = 0
    count: usize = 0
    page = pagealloc.alloc()
    while page != 0:
        link = cast(Ptr[usize], page)
        link[0] = chain
        chain = page
        count += 1
        page = pagealloc.alloc()
    empty = pagealloc.free_pages()
    while chain != 0:
        next_page = cast(Ptr[usize], chain)[0]
        pagealloc.free(chain)
        chain = next_page
    if count != before:
        return _fail(name, "allocated %u pages, %u were free", count, before)
    if empty != 0:
        return _fail(name, "%u pages counted free when alloc returned 0", empty)
    if pagealloc.free_pages() != before:
        return _fail(name, "%u pages free after refilling, %u before", pagealloc.free_pages(), before)
    return _pass(name)


def test_pagealloc_runs() -> bool:
    """A run freed page by page, in any order, is a run again: the same RUN_PAGES come back as one run."""
    name: Ptr[u8] = "pagealloc runs merge back"
    before = pagealloc.free_pages()
    first = pagealloc.alloc_run(RUN_PAGES)
    if first == 0:
        return _fail(name, "no run of %u pages with %u free", RUN_PAGES, before)
    # The odd pages first, then the even ones: no page is freed right after its neighbour.
    for i in range(usize(1), usize(RUN_PAGES), usize(2)):
        pagealloc.free(first + i * pagealloc.PAGE_SIZE)
    for i in range(usize(0), usize(RUN_PAGES), usize(2)):
        pagealloc.free(first + i * pagealloc.PAGE_SIZE)
    if pagealloc.free_pages() != before:
        return _fail(name, "%u pages free after freeing the run, %u before", pagealloc.free_pages(), before)
    again = pagealloc.alloc_run(RUN_PAGES)
    if again != first:
        return _fail(name, "the run was at %p, the next one at %p", first, again)
    for i in range(usize(RUN_PAGES)):
        pagealloc.free(again + i * pagealloc.PAGE_SIZE)
    return _pass(name)


def _format_case(name: Ptr[u8], expected: Ptr[u8], fmt_text: Ptr[u8], a: usize = 0, b: usize = 0,
                 c: usize = 0) -> bool:
    """Format into the test buffer and compare with ``expected`` (text and returned length)."""
    n = fmt.ksnprintf(addr(_buf[0]), len(_buf), fmt_text, a, b, c)
    if not string.streq(addr(_buf[0]), expected):
        return _fail(name, "got \"%s\", expected \"%s\"", usize(addr(_buf[0])), usize(expected))
    if n != string.strlen(expected):
        return _fail(name, "returned length %u, expected %u", n, string.strlen(expected))
    return _pass(name)


def test_kprintf() -> None:
    """One test per conversion, flag and width the kernel relies on, plus truncation."""
    _format_case("kprintf %d negative", "-42", "%d", usize(i64(-42)))
    _format_case("kprintf %d zero", "0", "%d", 0)
    _format_case("kprintf %u", "4294967295", "%u", 0xFFFF_FFFF)
    _format_case("kprintf %x", "deadbeef", "%x", 0xDEAD_BEEF)
    _format_case("kprintf %X", "CAFE", "%X", 0xCAFE)
    # The extremes and %p's digit count follow the pointer width (64 or 32 bits).
    if sizeof(usize) == 8:
        _format_case("kprintf %d most negative", "-9223372036854775808", "%d", usize(1) << 63)
        _format_case("kprintf %u max", "18446744073709551615", "%u", usize(0) - 1)
        _format_case("kprintf %p", "0x0000000012345678", "%p", 0x1234_5678)
    else:
        _format_case("kprintf %d most negative", "-2147483648", "%d", usize(1) << 31)
        _format_case("kprintf %u max", "4294967295", "%u", usize(0) - 1)
        _format_case("kprintf %p", "0x12345678", "%p", 0x1234_5678)
    _format_case("kprintf %s", "kcc", "%s", usize("kcc"))
    _format_case("kprintf %s NULL", "(null)", "%s", 0)
    _format_case("kprintf %c", "A", "%c", 0x41)
    _format_case("kprintf %%", "100%", "100%%")
    _format_case("kprintf width", "   42|", "%5d|", 42)
    _format_case("kprintf left-justify", "42   |kcc  |", "%-5d|%-5s|", 42, usize("kcc"))
    _format_case("kprintf zero pad %08x", "0000beef", "%08x", 0xBEEF)
    _format_case("kprintf zero pad negative", "-0042", "%05d", usize(i64(-42)))
    _format_case("kprintf string width", "  kcc", "%5s", usize("kcc"))
    _format_case("kprintf several", "a=-1 b=ff c=x", "a=%d b=%x c=%c", usize(i64(-1)), 0xFF, 0x78)
    name: Ptr[u8] = "ksnprintf truncation"
    n = fmt.ksnprintf(addr(_buf[0]), 8, "%s", usize("truncate-me"))
    if n != 11 or not string.streq(addr(_buf[0]), "truncat"):
        _fail(name, "returned %u and \"%s\", expected 11 and \"truncat\"", n, usize(addr(_buf[0])))
    else:
        _pass(name)


def idle_instructions() -> u64:
    """Instructions retired (as counted by arch.cpu.read_instret) while the timer test slept in wfi."""
    return _idle_instructions


def test_timer() -> bool:
    """Run the periodic timer at the board's HZ until TIMER_TICKS ticks arrive; check count and pace."""
    name: Ptr[u8] = "timer ticks at board HZ"
    period = timer.frequency() // u64(board.HZ)
    start_ticks = events.ticks()
    timer.init(board.HZ)
    started = timer.now()
    give_up = started + timer.frequency() * TIMER_LIMIT_SECONDS
    cpu.interrupts_enable()
    global _idle_instructions
    while events.ticks() - start_ticks < TIMER_TICKS and timer.now() < give_up:
        # Under QEMU's -icount the time a CPU sleeps in wfi is credited as instructions: keep it apart
        # so that the boot cost can be reported without it (the wake-up interrupt lands in it too).
        before = cpu.read_instret()
        cpu.wait_for_interrupt()
        _idle_instructions += cpu.read_instret() - before
    cpu.interrupts_disable()
    finished = timer.now()
    timer.stop()
    seen = events.ticks() - start_ticks
    elapsed_ms = (finished - started) * 1000 // timer.frequency()
    fmt.kprintf("  timer: %u ticks at %u Hz in %u ms\n", usize(seen), board.HZ, usize(elapsed_ms))
    if seen < TIMER_TICKS:
        return _fail(name, "%u ticks in %u ms, expected %u", usize(seen), usize(elapsed_ms), TIMER_TICKS)
    # Each deadline is set one period after the previous interrupt, so the
    # ticks cannot come faster than that; allow one period of slack at the start.
    if finished - started < period * (TIMER_TICKS - 1):
        return _fail(name, "%u ticks came in %u ms: faster than %u Hz", usize(seen), usize(elapsed_ms),
                     board.HZ)
    return _pass(name)


def test_breakpoint(name: Ptr[u8], wide: bool) -> bool:
    """Execute a breakpoint the trap handler is told to expect; check it was caught once and resumed."""
    before = events.breakpoints_seen()
    events.expect_breakpoint()
    if wide:
        cpu.breakpoint_wide()
    else:
        cpu.breakpoint()
    if events.breakpoints_seen() != before + 1:
        return _fail(name, "the handler saw %u breakpoints, expected 1", usize(events.breakpoints_seen() - before))
    pc = events.last_breakpoint_pc()
    if not extern_symbol("__text_start") <= pc < extern_symbol("__text_end"):
        return _fail(name, "breakpoint reported at %p, outside .text", pc)
    return _pass(name)


def run_all(ram: Ptr[MemRegion], nram: u32, holes: Ptr[MemRegion], nholes: u32) -> u32:
    """Run every self-test, printing one line each; return how many failed.

    ``ram``/``holes`` are the RAM regions and the ranges excluded from the
    page allocator, used to check that allocated pages are really free RAM.
    """
    fmt.kprintf("self-test:\n")
    test_pagealloc(ram, nram, holes, nholes)
    test_pagealloc_exhaust()
    test_pagealloc_runs()
    test_kprintf()
    test_timer()
    test_breakpoint("breakpoint caught and resumed", False)
    test_breakpoint("breakpoint (4-byte encoding) caught and resumed", True)
    return _failed
