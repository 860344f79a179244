"""The root of odplan's own errors on the client side.

Every error odplan raises on purpose derives from `OdplanError`, so a caller embedding odplan
can catch them all at once; each also keeps the builtin it resembles where one fits
(`AdoptError` is a `ValueError` too), like pyinfra's `OperationTypeError`.
"""

from __future__ import annotations

__all__ = ["OdplanError"]


class OdplanError(Exception):
    """Something odplan refuses or cannot do; the message says what, `hint` what to do.

    Plain attributes with class defaults, so a subclass with its own `__init__` that never
    calls this one (or assigns them itself, like `GatewayError`) still has both;
    `user_message()` falls back to `str(error)`.
    """

    message: str = ""
    hint: str = ""

    def __init__(self, message: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_message(self) -> str:
        """What to print after `error: `."""
        return self.message or str(self)
