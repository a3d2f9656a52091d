"""The shared cache (Redis) for counters and tokens that sign-in, the portal and payments need:
when it cannot be reached, this process's memory stands in, so those paths keep answering.

Only callers that must survive an outage use this (rate limits, the Daraja token, a router's live
traffic in routers/traffic.py); the health check asks the cache itself, so an outage still shows.
While Redis is down each process counts on its own (a limit of 5 becomes 5 per web process), in a
bounded store: the least recently used keys make room, so a flood of subjects cannot grow memory.
One error opens the outage (logged once); then one request per CACHE_FALLBACK_RETRY_SECONDS asks
Redis again (a hung Redis costs that one request its CACHE_TIMEOUT_SECONDS, not every request
arriving at once), and the first answer closes it (logged once). What was counted in memory
meanwhile is not carried over.
"""
import logging
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.dispatch import receiver

log = logging.getLogger(__name__)

# About 10,000 counters of ~200 bytes: a couple of megabytes per process at most.
FALLBACK_MAX_KEYS = 10_000


class SharedCache:
    """The subset of Django's cache API our counters use, with the in-process fallback."""

    def __init__(self, alias: str = "default"):
        self.alias = alias
        # LocMemCache is thread-safe, expires keys and culls least recently used ones past MAX_ENTRIES.
        self.local = LocMemCache("shared-cache-fallback",
                                 {"OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_KEYS, "CULL_FREQUENCY": 10}})
        self._state = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def _may_ask(self) -> bool:
        """Whether this call may ask Redis: always while it answers; during an outage one call per
        retry interval, which moves the retry time on *before* it asks, so the calls arriving
        while it waits out a hung Redis count in memory instead of waiting too."""
        if self._down_since is None:
            return True
        with self._state:
            now = time.monotonic()
            if self._retry_at > now:
                return False
            self._retry_at = now + settings.CACHE_FALLBACK_RETRY_SECONDS
            return True

    def _call(self, name: str, *args, **kwargs):
        if not self._may_ask():
            return getattr(self.local, name)(*args, **kwargs)
        try:
            result = getattr(caches[self.alias], name)(*args, **kwargs)
        except ValueError:  # incr/decr of a missing key: an answer, not an outage
            raise
        except Exception as error:  # any failure of the cache must not fail the request
            self._went_down(error)
            return getattr(self.local, name)(*args, **kwargs)
        if self._down_since is not None:
            self._came_back()
        return result

    def _went_down(self, error: Exception) -> None:
        with self._state:
            self._retry_at = time.monotonic() + settings.CACHE_FALLBACK_RETRY_SECONDS
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.error("shared cache unreachable (%s: %s): counting in this process's memory until it "
                          "answers; limits are per process meanwhile", type(error).__name__, error)

    def _came_back(self) -> None:
        with self._state:
            if self._down_since is None:
                return
            log.warning("shared cache reachable again after %.0f s", time.monotonic() - self._down_since)
            self._down_since = None
            self._retry_at = 0.0

    def forget_outage(self) -> None:
        """New cache settings (tests, mostly): ask the new cache at once, and drop what the
        memory counted for the old one."""
        with self._state:
            self._down_since, self._retry_at = None, 0.0
            self.local.clear()

    def get(self, key, default=None):
        return self._call("get", key, default)

    def get_many(self, keys) -> dict:
        """The found ones of ``keys`` in one round trip: {key: value}."""
        return self._call("get_many", keys)

    def set(self, key, value, timeout) -> None:
        self._call("set", key, value, timeout)

    def add(self, key, value, timeout) -> bool:
        return self._call("add", key, value, timeout)

    def incr(self, key, delta: int = 1) -> int:
        return self._call("incr", key, delta)

    def decr(self, key, delta: int = 1) -> int:
        return self._call("decr", key, delta)

    def delete(self, key) -> None:
        self._call("delete", key)

    def delete_many(self, keys) -> None:
        self._call("delete_many", keys)


cache = SharedCache()


@receiver(setting_changed)
def _cache_settings_changed(*, setting: str, **kwargs) -> None:
    if setting == "CACHES":
        cache.forget_outage()
