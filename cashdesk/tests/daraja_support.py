"""Test helpers for anything that talks M-Pesa: the sample payloads and a tiny callback receiver.

`CallbackReceiver` stands in for our callback views when the Daraja simulator posts over real HTTP;
the cash desk's own tests can use it too (or point the simulator at `live_server`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"


def sample_bytes(name: str) -> bytes:
    """A sample payload exactly as stored (`stk_callback_success`, `c2b_validation`, …)."""
    return (SAMPLES / f"{name}.json").read_bytes()


def sample(name: str) -> dict:
    return json.loads(sample_bytes(name))


@dataclass(frozen=True)
class Received:
    path: str
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class CallbackReceiver:
    """Records every POST; answers `{"ResultCode": 0, "ResultDesc": "Accepted"}` unless told otherwise.

    `answers` maps a path prefix to (HTTP status, JSON body) for that path.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.answers: dict[str, tuple[int, dict]] = {}
        self.received: list[Received] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = 200, {"ResultCode": 0, "ResultDesc": "Accepted"}
                for prefix, reply in receiver.answers.items():
                    if self.path.startswith(prefix):
                        status, answer = reply
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with receiver._changed:
                    receiver.received.append(Received(self.path, body))
                    receiver._changed.notify_all()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.base_url + path

    def matching(self, prefix: str) -> list[Received]:
        with self._changed:
            return [item for item in self.received if item.path.startswith(prefix)]

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 5.0) -> list[Received]:
        """Block until `count` POSTs to paths starting with `prefix` arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [item for item in self.received if item.path.startswith(prefix)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} POST(s) to {prefix}, got {len(found)}")
                self._changed.wait(left)
