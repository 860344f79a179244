"""Run an ASGI app under uvicorn in a background thread (tests, benchmarks and
`odplan gateway serve` share this)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opendeploy_plan.emulator.faults import LostResponse


class _DropInjectedFaults(logging.Filter):
    """Injected lost responses are intended; keep their tracebacks out of the server log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, LostResponse)


@contextmanager
def serve_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    wait_for_stop: bool = True,
) -> Iterator[str]:
    """Serve `app` on host:port (0 = any free port); yield the root URL; stop on exit.

    With `wait_for_stop=False` the exit only asks uvicorn to stop (it finishes within ~0.2 s
    on its own), which keeps many short-lived test servers fast.
    """
    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropInjectedFaults) for f in error_log.filters):
        error_log.addFilter(_DropInjectedFaults())
    thread = threading.Thread(target=server.run, name="odplan-gateway", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the local gateway could not start on {host}:{port}")
            time.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{bound[1]}"
    finally:
        server.should_exit = True
        if wait_for_stop:
            thread.join(timeout=10)
