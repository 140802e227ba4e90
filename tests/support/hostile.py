"""A hostile HTTP server on 127.0.0.1 for the bounds and leak tests: each test gives it one handler."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def hostile_server(answer: Handler) -> Iterator[str]:
    """Serve `answer` for every request on an ephemeral loopback port; yields the base URL."""

    class _Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out as separate writes: with Nagle on, a keep-alive client's delayed ACK
        # holds every answer back ~40 ms (loopback latency that has nothing to do with what is tested)
        disable_nagle_algorithm = True

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                answer(self)  # a broken pipe: the client gave up, as it should

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    # shutdown() waits for the serve loop's next poll: the default 0.5 s cost every test half a second
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    """A complete answer with Content-Length."""
    handler.send_response(status)
    for name, value in {"Content-Type": "text/xml; charset=utf-8", **headers}.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
