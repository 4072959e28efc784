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
