"""A real webhook receiver on 127.0.0.1 for the delivery and the orchestration tests.

One receiver for both, so what a test asserts about signatures, idempotency keys and
retries is checked by the same independent code wherever delivery is exercised.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: The secret the receiver checks signatures with; tests give the code under test the same.
SECRET = "test-signing-secret"


@dataclass
class Received:
    """One request as the receiver saw it, and what it answered (None: dropped or too late)."""

    body: bytes
    key: str
    signature_ok: bool
    content_type: str
    answered: int | None


@dataclass
class Receiver:
    """Answers each POST from a script of behaviours, then with the default.

    A behaviour is an HTTP status to answer, "drop" (close the connection without a
    response) or ("hang", seconds) (answer 200 too late). Signatures are checked here,
    independently of the code under test; a bad signature gets 401.
    """

    url: str = ""
    secret: str = SECRET
    default: int | str = 200
    script: deque[int | str | tuple[str, float]] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def then(self, *behaviours: int | str | tuple[str, float]) -> Receiver:
        self.script.extend(behaviours)
        return self

    def next_behaviour(self) -> int | str | tuple[str, float]:
        with self.lock:
            return self.script.popleft() if self.script else self.default

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.answered is not None and 200 <= r.answered < 300]

    def accepted_keys(self) -> Counter[str]:
        return Counter(r.key for r in self.accepted())


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            expected = hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
            signature_ok = hmac.compare_digest(
                self.headers.get("X-Signature", ""), f"sha256={expected}"
            )
            behaviour = receiver.next_behaviour() if signature_ok else 401
            answered: int | None
            if behaviour == "drop":
                answered = None
            elif isinstance(behaviour, tuple):
                time.sleep(behaviour[1])  # the client has given up by now: not an answer
                answered = None
            else:
                answered = int(behaviour)
            with receiver.lock:
                receiver.requests.append(
                    Received(
                        body=body,
                        key=self.headers.get("Idempotency-Key", ""),
                        signature_ok=signature_ok,
                        content_type=self.headers.get("Content-Type", ""),
                        answered=answered,
                    )
                )
            if behaviour == "drop":
                self.close_connection = True
                return
            status = 200 if answered is None else answered
            payload = b'{"ok":true}' if status < 300 else b'{"error":"try later"}'
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A ThreadingHTTPServer on 127.0.0.1, port chosen by the OS, running in a thread."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/segments"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
