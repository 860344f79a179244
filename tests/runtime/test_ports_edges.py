"""A port whose last connection is in TIME_WAIT is free for a server (servers bind with
SO_REUSEADDR), so a database keeps its port across a quick restart."""

from __future__ import annotations

import socket

from opendeploy_plan.runtime.ports import free_port


def test_a_preferred_port_in_time_wait_is_kept() -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = int(server.getsockname()[1])
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end goes to TIME_WAIT
    assert client.recv(1) == b""
    client.close()
    server.close()
    assert free_port(port) == port
