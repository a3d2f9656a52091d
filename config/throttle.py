"""Failure counters with lockout, kept in the shared cache (Redis in production).

One mechanism for every rate limit in the product: staff login now, portal vouchers and payment
initiation later. A key is counted within a fixed window; at the limit it is locked for the
lockout period, whatever happens in between.
"""
import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    window_seconds: int
    lockout_seconds: int

    def _key(self, kind: str, subject: str) -> str:
        digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{kind}:{digest}"

    def locked_for(self, subject: str) -> int:
        """Seconds until ``subject`` may try again; 0 when it is not locked."""
        until = cache.get(self._key("lock", subject))
        if until is None:
            return 0
        return max(0, int(until - time.time()) + 1)

    def fail(self, subject: str) -> int:
        """Count a failure; returns the lockout in seconds it triggered (0 if none)."""
        key = self._key("count", subject)
        cache.add(key, 0, timeout=self.window_seconds)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=self.window_seconds)
            count = 1
        if count >= self.limit:
            cache.set(
                self._key("lock", subject), time.time() + self.lockout_seconds, self.lockout_seconds
            )
            cache.delete(key)
            return self.lockout_seconds
        return 0

    def reset(self, subject: str) -> None:
        cache.delete_many([self._key("count", subject), self._key("lock", subject)])
