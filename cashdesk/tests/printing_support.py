"""A network receipt printer on a local TCP port, for the printing tests.

It answers the status request (DLE EOT 1) the way the printer is told to behave — a healthy printer,
one that is offline, something that answers garbage, or one that never answers — and keeps every
byte of each job it is sent.
"""

import socket
import threading

from cashdesk.printing.thermal import STATUS_REQUEST

HEALTHY = b"\x12"  # bits 1 and 4 set: online, drawer closed
OFFLINE = b"\x1a"  # bit 3 set too: cover open or paper out
GARBAGE = b"HTTP/1.1 400 Bad Request\r\n"


class FakePrinter:
    def __init__(self, *, answer: bytes | None = HEALTHY):
        self.answer = answer  # None: accept the connection but never answer (a hung printer)
        self.jobs: list[bytes] = []
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(5)
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "FakePrinter":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                received = b""
                answered = False
                while True:
                    try:
                        chunk = connection.recv(65536)
                    except (TimeoutError, ConnectionResetError):  # a client that gave up on us
                        break
                    if not chunk:
                        break
                    received += chunk
                    if not answered and STATUS_REQUEST in received and self.answer is not None:
                        try:
                            connection.sendall(self.answer)
                        except OSError:
                            break
                        answered = True
                self.jobs.append(received.replace(STATUS_REQUEST, b"", 1))


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once, like a printer switched off."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def text_of(job: bytes) -> str:
    """The job's bytes as text, control codes and all, for finding what was printed."""
    return job.decode("cp437", errors="replace")
