"""The root of odplan's own errors on the client side.

Every error odplan raises on purpose derives from `OdplanError`, so a caller embedding odplan
can catch them all at once; each also keeps the builtin it resembles where one fits
(`AdoptError` is a `ValueError` too), like pyinfra's `OperationTypeError`.
"""

from __future__ import annotations

__all__ = ["OdplanError"]


class OdplanError(Exception):
    """Something odplan refuses or cannot do; the message says what, `hint` what to do."""

    def __init__(self, message: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
