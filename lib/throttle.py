"""Rate limits for every guessable thing in the product, kept in the shared cache.

Two shapes. ``Throttle`` locks a subject (a username, a phone number) for a period once it reaches
its limit. ``Slowdown`` never locks: a subject that may stand for many people (a client address,
a whole hotspot behind its NAT) gets a budget per window, then one attempt per interval, so a
guesser is bounded while the customers sharing the address wait seconds, not minutes.

Both count an attempt *before* it is made (``take``), and the caller gives it back when it
succeeds: a check made before counting lets every request of a parallel burst through it. The
counters live in ``lib.shared_cache``, which falls back to process memory while Redis is down.
"""
import hashlib
import math
import time
from dataclasses import dataclass

from .shared_cache import cache


def _key(scope: str, kind: str, subject: str) -> str:
    digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:32]
    return f"throttle:{scope}:{kind}:{digest}"


def _hit(key: str, timeout: int) -> int:
    """Add one to a counter that lives ``timeout`` seconds from its first hit; the new count."""
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout)
        return 1


def _give_back(key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:  # the window ended meanwhile: nothing left to give back
        pass


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    window_seconds: int
    lockout_seconds: int

    def _key(self, kind: str, subject: str) -> str:
        return _key(self.scope, kind, subject)

    def locked_for(self, subject: str) -> int:
        """Seconds until ``subject`` may try again; 0 when it is not locked."""
        until = cache.get(self._key("lock", subject))
        if until is None:
            return 0
        return max(0, int(until - time.time()) + 1)

    def take(self, subject: str) -> int:
        """Count an attempt about to be made; returns seconds to wait (0: go ahead). At most
        ``limit`` attempts go ahead per window, however many arrive at once."""
        wait = self.locked_for(subject)
        if wait:
            return wait
        if _hit(self._key("count", subject), self.window_seconds) > self.limit:
            self._lock(subject)
            return self.lockout_seconds
        return 0

    def failed(self, subject: str) -> int:
        """The attempt ``take`` let through failed; returns the lockout it triggered (0 if none)."""
        if (cache.get(self._key("count", subject)) or 0) >= self.limit:
            self._lock(subject)
            return self.lockout_seconds
        return 0

    def forgive(self, subject: str) -> None:
        """The attempt ``take`` let through succeeded: it does not count."""
        _give_back(self._key("count", subject))

    def _lock(self, subject: str) -> None:
        cache.set(self._key("lock", subject), time.time() + self.lockout_seconds, self.lockout_seconds)

    def reset(self, subject: str) -> None:
        cache.delete_many([self._key("count", subject), self._key("lock", subject)])


@dataclass(frozen=True)
class Slowdown:
    """``budget`` attempts per ``window_seconds``, then one every ``interval_seconds``: at most
    budget x (86400 / window) + 86400 / interval attempts a day per subject."""

    scope: str
    budget: int
    window_seconds: int
    interval_seconds: int

    def take(self, subject: str) -> int:
        """Count an attempt about to be made; returns seconds to wait (0: go ahead)."""
        if _hit(_key(self.scope, "count", subject), self.window_seconds) <= self.budget:
            return 0
        # Past the budget: whoever comes first after each interval gets the one attempt.
        opens = time.time() + self.interval_seconds
        slot = _key(self.scope, "slot", subject)
        if cache.add(slot, opens, self.interval_seconds):
            return 0
        return max(1, math.ceil((cache.get(slot) or opens) - time.time()))

    def forgive(self, subject: str) -> None:
        """The attempt ``take`` let through succeeded (or was no guess at all): it does not count."""
        _give_back(_key(self.scope, "count", subject))

    def reset(self, subject: str) -> None:
        cache.delete_many([_key(self.scope, "count", subject), _key(self.scope, "slot", subject)])
