"""Run functions at the same moment in threads, each with its own database connection."""

import threading

from django.db import connection


def run_together(*functions, timeout: float = 30.0) -> list:
    """Start every function at once (a barrier), return each one's result or the exception it raised."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait(timeout)
            results[index] = function()
        except BaseException as exc:  # noqa: BLE001 - the caller inspects what each thread raised
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
