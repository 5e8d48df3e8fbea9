"""A TCP port to give a server that the tests or the bench start on 127.0.0.1."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
