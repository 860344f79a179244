"""Loopback ports for apps and databases: a database keeps its previous port when it is still
free (its URL in every service's env stays right after a restart); a port something else
listens on is never handed out; no preference means a port the kernel picks."""

from __future__ import annotations

import socket

from opendeploy_plan.runtime.ports import free_port, port_is_free


def _listening() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_a_free_preferred_port_is_kept() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    assert port_is_free(port)
    assert free_port(port) == port


def test_a_taken_port_is_never_handed_out() -> None:
    with _listening() as server:
        taken = int(server.getsockname()[1])
        assert not port_is_free(taken)
        other = free_port(taken)
        assert other != taken and other > 0
        assert port_is_free(other)


def test_no_preference_gets_a_free_port_from_the_kernel() -> None:
    ports = {free_port() for _ in range(3)} | {free_port(None), free_port(0)}
    assert all(0 < port < 65536 and port_is_free(port) for port in ports)
