"""The cache backend for production: Django's Redis cache, but a Redis that does not answer is a miss,
not an error.

The cache only ever holds copies (shop settings for a minute, cached sessions written through to the
database, the Daraja token, rate-limit counters), so while Redis is down every read misses and goes to
the database, writes are dropped, and the till keeps selling. Short socket timeouts (`OPTIONS` in
settings) keep a Redis that has vanished from the network from holding a request for long. Each failure
is logged (`cache_unavailable`) and counted in `asiria_cache_errors_total`.

Known costs while Redis is down (docs/production.md, "When things fail"): login rate limits cannot
count (allauth's counters live in the cache), and `add()` — used as a lock by the Daraja token refresh
— always succeeds, so two processes may both fetch a token (Daraja then invalidates the older one and
the client retries once).
"""

from __future__ import annotations

import time

import structlog
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from prometheus_client import Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.get_logger("asiria.cache")

CACHE_ERRORS = Counter("asiria_cache_errors_total", "Cache calls that failed because Redis did not answer.",
                       ["operation"])
_DOWN = (RedisConnectionError, RedisTimeoutError)


_LOG_EVERY = 10.0  # seconds: a request makes several cache calls; one warning now and then is enough
_last_logged = [0.0]


def _failed(operation: str, exc: Exception) -> None:
    CACHE_ERRORS.labels(operation=operation).inc()
    now = time.monotonic()
    if now - _last_logged[0] >= _LOG_EVERY:
        _last_logged[0] = now
        log.warning("cache_unavailable", operation=operation, error=f"{type(exc).__name__}: {exc}"[:200],
                    note="Redis does not answer: cache reads miss, writes are dropped (counted in "
                         "asiria_cache_errors_total)")


class ResilientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` that degrades to "no cache" while Redis is down."""

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _DOWN as exc:
            _failed("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _DOWN as exc:
            _failed("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _DOWN as exc:
            _failed("has_key", exc)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except _DOWN as exc:
            _failed("set", exc)
            return None

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _DOWN as exc:
            _failed("set_many", exc)
            return list(data)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _DOWN as exc:
            _failed("add", exc)
            return True  # no cache to hold a lock: the caller goes ahead (see the module's docstring)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except _DOWN as exc:
            _failed("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _DOWN as exc:
            _failed("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except _DOWN as exc:
            _failed("delete_many", exc)
            return None

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _DOWN as exc:
            _failed("incr", exc)
            return delta

    def clear(self):
        try:
            return super().clear()
        except _DOWN as exc:
            _failed("clear", exc)
            return False
