"""HTTP servers for tests, on 127.0.0.1 only: a static file server that can misbehave."""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Optional


@dataclass
class Fault:
    """How to misbehave for one path: each request consumes the next planned status."""

    statuses: list[int] = field(default_factory=list)
    """HTTP statuses to answer before serving normally (500, 404...)."""
    delay: float = 0.0
    """Seconds to wait before answering (to trigger client timeouts)."""
    truncate_to: Optional[int] = None
    """Send only this many bytes of the body while announcing the full length."""
    redirect_to: Optional[str] = None
    """Answer every request with a 302 to this URL."""
    drip: float = 0.0
    """Send the body one byte per this many seconds (a hostile or broken server)."""
    endless: bool = False
    """Stream zeros with no Content-Length until the client hangs up."""


class FileServer:
    """Serves ``root`` over HTTP on 127.0.0.1, recording requests and injecting faults."""

    def __init__(self, root: Path, port: int = 0, tls: Optional[ssl.SSLContext] = None) -> None:
        self.root = root
        self.scheme = "https" if tls is not None else "http"
        self.faults: dict[str, Fault] = {}
        self.requests: list[tuple[str, int]] = []
        self.headers: list[tuple[str, dict[str, str]]] = []
        """The path and headers (names in lower case) of every request, in order."""
        self.pages: dict[str, tuple[str, bytes]] = {}
        """In-memory answers by path: ``(Content-Type, body)`` (pages a file cannot be)."""
        self.required_authorization: Optional[str] = None
        """When set, requests without exactly this ``Authorization`` get a 401."""
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _misbehave(self, fault: Fault) -> None:
                self.send_response(200)
                if not fault.endless:
                    data = (root / self.path.lstrip("/")).read_bytes()
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.close_connection = True
                zeros = bytes(1024 * 1024)
                try:
                    if fault.endless:
                        while not server.closed:
                            self.wfile.write(zeros)
                    for byte in range(len(data)) if not fault.endless else ():
                        if server.closed:
                            return
                        self.wfile.write(data[byte : byte + 1])
                        self.wfile.flush()
                        time.sleep(fault.drip)
                except OSError:  # the client gave up, as it should
                    return

            def do_GET(self) -> None:
                server.headers.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                required = server.required_authorization
                if required is not None and self.headers.get("Authorization") != required:
                    server.requests.append((self.path, 401))
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                fault = server.faults.get(self.path)
                if fault is not None and (fault.drip or fault.endless):
                    server.requests.append((self.path, 200))
                    self._misbehave(fault)
                    return
                page = server.pages.get(self.path)
                if page is not None:
                    server.requests.append((self.path, 200))
                    self.send_response(200)
                    self.send_header("Content-Type", page[0])
                    self.send_header("Content-Length", str(len(page[1])))
                    self.end_headers()
                    self.wfile.write(page[1])
                    return
                fault = server.faults.get(self.path)
                if fault is not None:
                    if fault.delay:
                        time.sleep(fault.delay)
                    if fault.redirect_to is not None:
                        server.requests.append((self.path, 302))
                        self.send_response(302)
                        self.send_header("Location", fault.redirect_to)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    if fault.statuses:
                        status = fault.statuses.pop(0)
                        server.requests.append((self.path, status))
                        self.send_error(status)
                        return
                    if fault.truncate_to is not None:
                        data = (root / self.path.lstrip("/")).read_bytes()
                        server.requests.append((self.path, 200))
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data[: fault.truncate_to])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                path = self.path.split("?")[0]
                target = root / path.lstrip("/")
                exists = target.is_file() or (
                    path.endswith("/") and (target / "index.html").is_file()
                )
                server.requests.append((self.path, 200 if exists else 404))
                super().do_GET()

        self.closed = False
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str = "") -> str:
        """``http://127.0.0.1:<port>/<path>``."""
        return f"{self.scheme}://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def close(self) -> None:
        self.closed = True
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FileServer:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()
