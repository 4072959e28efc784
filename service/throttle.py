"""Login throttle: wrong logins per client address and per user name, counted in memory.

The counts live in the server process (one ``omr serve`` process serves the API; its readers are
separate processes that never see a login), so a restart forgets them; that is accepted: the tokens are
192-bit random strings, and the throttle is there to make guessing slow and cheap to refuse, not to be
the only thing between a guess and an account.

Rules (the numbers come from :class:`service.settings.Settings`):

* ``max_failures`` wrong logins within ``window`` seconds from one address lock that address, for any
  name, for ``lock`` seconds; each further lock of the same key doubles the time, up to ``lock_max``;
  the doubling is forgotten after an hour without failures.
* ``max_failures`` wrong logins within ``window`` for one name (from any addresses) lock that name for
  the addresses that took part; an address that has not failed for that name can still sign in, so
  someone guessing cannot lock the real user out.
* A right login clears the name's count (not the address's: a valid account must not buy more guesses).
* While locked, a login is answered 429 with ``Retry-After`` without looking at the token.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

FORGET_AFTER = 3600.0  # seconds without failures after which a key's history is dropped
MAX_KEYS = 50_000  # beyond this many tracked keys, the quiet ones are swept
MAX_CONTRIBUTORS = 1000  # addresses remembered per name; past it the name's lock holds for every address


@dataclass
class _Key:
    fails: deque[float] = field(default_factory=deque)
    strikes: int = 0
    locked_until: float = 0.0
    last: float = 0.0
    addresses: set[str] = field(default_factory=set)


class LoginThrottle:
    def __init__(self, *, max_failures: int = 5, window: float = 300.0, lock: float = 30.0, lock_max: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window, self.lock, self.lock_max = max_failures, window, lock, lock_max
        self.clock = clock
        self._names: dict[str, _Key] = {}
        self._addrs: dict[str, _Key] = {}
        self._mutex = threading.Lock()

    @staticmethod
    def _name(name: str) -> str:
        return name.strip().casefold()[:200]

    def retry_after(self, name: str, address: str) -> int:
        """Seconds until this name may be tried again from this address (0: now)."""
        now = self.clock()
        with self._mutex:
            wait = 0.0
            a = self._addrs.get(address)
            if a and a.locked_until > now:
                wait = a.locked_until - now
            n = self._names.get(self._name(name))
            if n and n.locked_until > now and (address in n.addresses or len(n.addresses) >= MAX_CONTRIBUTORS):
                wait = max(wait, n.locked_until - now)
            return math.ceil(wait) if wait > 0 else 0

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self._mutex:
            self._strike(self._addrs, address, now, None)
            self._strike(self._names, self._name(name), now, address)
            if len(self._addrs) + len(self._names) > MAX_KEYS:
                self._sweep(now)

    def succeeded(self, name: str) -> None:
        with self._mutex:
            self._names.pop(self._name(name), None)

    def _strike(self, table: dict[str, _Key], key: str, now: float, address: str | None) -> None:
        k = table.get(key)
        if k is None or now - k.last > FORGET_AFTER:
            k = table[key] = _Key()
        k.last = now
        while k.fails and now - k.fails[0] > self.window:
            k.fails.popleft()
        k.fails.append(now)
        if address is not None and len(k.addresses) < MAX_CONTRIBUTORS:
            k.addresses.add(address)
        if len(k.fails) >= self.max_failures:
            k.strikes += 1
            k.locked_until = now + min(self.lock * 2 ** (k.strikes - 1), self.lock_max)
            k.fails.clear()

    def _sweep(self, now: float) -> None:
        for table in (self._addrs, self._names):
            for key in [key for key, k in table.items() if now - k.last > self.window and k.locked_until < now]:
                del table[key]
