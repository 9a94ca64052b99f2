"""When the queue cannot take a task (Redis down): run it here, or drop it with a warning; and a Redis
that does not answer is a cache miss, not an error."""

import pytest
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from core.ops.cache import ResilientRedisCache
from core.ops.queue import enqueue, schedule

pytestmark = pytest.mark.django_db  # the suite's session fixtures expect a database


class _Task:
    """Stands in for a Huey task whose queue's storage is down."""

    name = "demo.task"

    def __init__(self):
        self.ran_here = []

    def __call__(self, *args):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def schedule(self, *, args, delay):
        raise RedisConnectionError("Error 111")

    def call_local(self, *args):
        self.ran_here.append(args)
        return "done here"


def fallbacks(kind: str) -> float:
    return REGISTRY.get_sample_value("asiria_queue_fallbacks_total", {"fallback": kind}) or 0.0


def test_inline_runs_the_task_in_the_request_when_the_queue_is_down():
    task, before = _Task(), fallbacks("inline")
    assert enqueue(task, 12, "x", fallback="inline") == "done here"
    assert task.ran_here == [(12, "x")] and fallbacks("inline") == before + 1


def test_skip_drops_the_task_and_says_so():
    task, before = _Task(), fallbacks("skip")
    assert enqueue(task, 12, fallback="skip") is None
    assert task.ran_here == [] and fallbacks("skip") == before + 1
    assert schedule(task, args=(1,), delay=60) is False


def test_a_working_queue_is_used_and_nothing_else():
    calls = []

    class Working(_Task):
        def __call__(self, *args):
            calls.append(args)
            return "queued"

    task = Working()
    assert enqueue(task, 3) == "queued" and calls == [(3,)] and task.ran_here == []


def test_an_unknown_fallback_is_refused():
    with pytest.raises(ValueError):
        enqueue(_Task(), fallback="retry")


def test_a_dead_redis_is_a_cache_miss_not_an_error():
    # Port 1 on localhost: nothing listens there, the connection is refused at once.
    cache = ResilientRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1}})
    before = REGISTRY.get_sample_value("asiria_cache_errors_total", {"operation": "get"}) or 0.0
    assert cache.get("shop-settings", "fallback") == "fallback"
    assert cache.set("k", 1) is None and cache.get_many(["a", "b"]) == {} and cache.delete("k") is False
    assert cache.add("lock", "me") is True  # no lock without a cache: the caller goes ahead
    assert cache.get_or_set("k", 5) == 5 and cache.incr("n", 2) == 2 and cache.has_key("k") is False
    assert REGISTRY.get_sample_value("asiria_cache_errors_total", {"operation": "get"}) > before
