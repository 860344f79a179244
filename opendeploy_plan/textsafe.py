"""Text that came from outside (the gateway) made safe to print: controls escaped, length capped.

A gateway's error reason, a log line or a name is printed to a terminal and written to the audit
log. Raw, an `ESC[2J` clears the screen, an OSC sequence retitles the window or forges a link,
a newline or `\\r` forges a line ("error: ..." that odplan never wrote) and a bidi override
reverses what the reader sees. `escape_controls` is applied once, where such text enters odplan
(the gateway client builds its errors, log lines and events with it), so every view is safe.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_MESSAGE_CHARS", "clip", "escape_controls", "escape_tree", "safe_text"]

# How much of one gateway message odplan keeps (an error reason, one log line).
MAX_MESSAGE_CHARS = 2000

# C0 controls, DEL, C1 controls (0x80-0x9f: 0x9b is a one-byte CSI), and the Unicode format
# characters that reorder or hide text (bidi embeddings/overrides/isolates, zero-width marks,
# line/paragraph separators).
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_WITH_TAB = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_tabs: bool = True) -> str:
    """`text` with every control and bidi/format character shown as a visible escape
    (`\\x1b`, `\\n`, `\\u202e`); printable text, including non-ASCII letters, is unchanged."""
    pattern = _UNSAFE if keep_tabs else _UNSAFE_WITH_TAB
    return pattern.sub(_escape, text)


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """At most `limit` characters; a clipped text says how much was left off."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters not shown)"


def safe_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Clipped, then escaped: what odplan keeps of one message from the gateway."""
    return escape_controls(clip(text, limit))


def escape_tree(value: Any, depth: int = 0) -> Any:
    """A decoded JSON value with `escape_controls` applied to every string in it, keys
    included (a log row is a dict whose `message` is what gets printed)."""
    if isinstance(value, str):
        return escape_controls(value)
    if depth > 32:
        return None
    if isinstance(value, list):
        return [escape_tree(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {escape_controls(str(k)): escape_tree(v, depth + 1) for k, v in value.items()}
    return value
