"""Live build and runtime output: lines as they happen, kept in order, offered to subscribers.

A `LogStream` is what the emulator reads for a deployment's log endpoints and streams. Known
secret values are masked before a line is stored or handed on, so a secret an app prints (or a
command line that carries one) never reaches a log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Final

MASK: Final = "********"
# A secret shorter than this is too likely to be an ordinary word to mask everywhere.
_MIN_MASKED_LENGTH: Final = 4
_MAX_LINE_CHARS: Final = 8192


@dataclass(frozen=True)
class RuntimeLogLine:
    """One line of output. `phase` is `build`, `deploy` or `runtime`; `level` `info`/`error`."""

    timestamp: float
    phase: str
    level: str
    message: str


LogSubscriber = Callable[[RuntimeLogLine], None]


class LogStream:
    """An append-only, thread-safe list of lines with live subscribers and secret masking.

    Invariant: every stored or delivered line has had every registered secret masked.
    """

    def __init__(self, secrets: Iterable[str] = (), *, max_lines: int = 20_000) -> None:
        self._lock = threading.Lock()
        self._lines: list[RuntimeLogLine] = []
        self._subscribers: list[LogSubscriber] = []
        self._secrets: list[str] = []
        self._max_lines = max_lines
        self.add_secrets(secrets)

    def add_secrets(self, values: Iterable[str]) -> None:
        with self._lock:
            for value in values:
                if len(value) >= _MIN_MASKED_LENGTH and value not in self._secrets:
                    self._secrets.append(value)
            # Longest first, so a secret that contains another is masked whole.
            self._secrets.sort(key=len, reverse=True)

    def mask(self, text: str) -> str:
        for value in self._secrets:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def write(self, message: str, *, phase: str, level: str = "info") -> RuntimeLogLine:
        """Add one line (a trailing newline is dropped; overlong lines are cut, after masking:
        a secret the cut would split is masked whole, not half shown)."""
        with self._lock:
            text = self.mask(message.rstrip("\r\n"))
            if len(text) > _MAX_LINE_CHARS:
                text = text[:_MAX_LINE_CHARS] + " …"
            line = RuntimeLogLine(time.time(), phase, level, text)
            self._lines.append(line)
            if len(self._lines) > self._max_lines:
                del self._lines[: len(self._lines) - self._max_lines]
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber(line)
        return line

    def lines(self) -> list[RuntimeLogLine]:
        with self._lock:
            return list(self._lines)

    def tail(self, count: int) -> list[str]:
        """The last `count` messages, for a failure's error text."""
        with self._lock:
            return [line.message for line in self._lines[-count:]]

    def subscribe(self, subscriber: LogSubscriber) -> Callable[[], None]:
        """Call `subscriber` for every later line; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe


def pump_lines(
    pipe: IO[bytes], log: LogStream, *, phase: str, level: str = "info"
) -> threading.Thread:
    """Copy a child's output into `log` line by line on a daemon thread, until EOF."""

    def run() -> None:
        with pipe:
            for raw in iter(pipe.readline, b""):
                log.write(raw.decode("utf-8", "replace"), phase=phase, level=level)

    thread = threading.Thread(target=run, name=f"log-pump-{phase}", daemon=True)
    thread.start()
    return thread
