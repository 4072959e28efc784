"""Worker processes that never outlive the process that started them.

A pool worker blocks reading its task pipe, and it holds a copy of that pipe's
write end itself, so it never sees end-of-file when its parent dies: a killed
`omr scan` or `omr serve` would leave its workers behind for good. On Linux the
kernel can send a signal instead (``prctl(PR_SET_PDEATHSIG)``).
"""
from __future__ import annotations

import os
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Call first thing in a worker process: SIGTERM arrives when the parent ends."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: workers then end with the pool as usual
        return
    if os.getppid() == 1:  # the parent was gone before we asked
        os._exit(0)


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
PAGE_ARENA_BYTES = 64 << 20  # larger than any page buffer (a 600-dpi A4 page is ~35 MB of grey)


def keep_page_memory() -> None:
    """Let a reading process keep the memory of one page for the next (glibc only).

    A page is read through a few page-sized arrays (decoded, aligned, flattened: 4-35 MB
    each). glibc gives blocks that large straight back to the kernel when they are freed,
    so every page faults its memory in again: ~8 ms of system time a page, 10% of the
    reading. Kept in the heap instead, a process's memory stays what one page needs (flat:
    +5 MB measured), and the faults are gone."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, PAGE_ARENA_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, 4 * PAGE_ARENA_BYTES)
    except (OSError, AttributeError):  # not glibc: the default allocator, a little slower
        return


def reader_process() -> None:
    """The initializer of a page-reading worker: dies with its parent, keeps its page memory."""
    die_with_parent()
    keep_page_memory()
