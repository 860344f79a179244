"""Loopback ports for apps, databases and the router: free ones, chosen by the kernel."""

from __future__ import annotations

import socket
from typing import Final

LOOPBACK: Final = "127.0.0.1"


def free_port(preferred: int | None = None) -> int:
    """`preferred` when it is free on loopback, else a port the kernel picks."""
    if preferred:
        with socket.socket() as probe:
            # Servers bind with SO_REUSEADDR, so a port in TIME_WAIT is free for them too.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((LOOPBACK, preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True
