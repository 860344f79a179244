"""The gateway's error envelope, `{"error": "..."}` plus documented extra fields, and the
Go-style messages the real backend gives for bodies it cannot decode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

__all__ = ["EmulatorError", "PlatformError", "go_decode_message", "not_found"]


class EmulatorError(Exception):
    """The root of every exception the emulator raises on purpose."""


class PlatformError(EmulatorError):
    """An error response: HTTP status, the `error` message and any extra documented fields.

    (Not the gateway client's `ApiError`: this one is raised by the simulated platform and
    turned into a response; that one is what the client raises on reading such a response.)
    """

    def __init__(
        self,
        status: int,
        error: str,
        /,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.extra = extra
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.error, **self.extra}


def not_found(what: str) -> PlatformError:
    return PlatformError(404, f"{what} not found")


_JSON_KIND = {str: "string", bool: "bool", int: "number", float: "number", list: "array"}
_GO_TYPE = {
    "string_type": "string",
    "int_type": "int",
    "int_parsing": "int",
    "float_type": "float64",
    "float_parsing": "float64",
    "bool_type": "bool",
    "dict_type": "map[string]string",
    "list_type": "[]string",
    "model_type": "object",
    "model_attributes_type": "object",
}


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_KIND.get(type(value), "object")


def _innermost_struct(model: type[BaseModel], loc: Sequence[str | int]) -> str:
    """The Go struct name owning the field at `loc` (a nested model's title, else the root's)."""
    name = str(model.model_config.get("title") or model.__name__)
    current: Any = model
    for part in loc[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            break
        field = current.model_fields.get(str(part))
        if field is None:
            break
        nested = _model_in(field.annotation)
        if nested is None:
            break
        current = nested
        name = str(nested.model_config.get("title") or nested.__name__)
    return name


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def go_decode_message(model: type[BaseModel] | None, errors: Sequence[dict[str, Any]]) -> str:
    """Turn the first pydantic error into the message a Go/gin handler would have written."""
    if not errors:
        return "invalid request body"
    err = errors[0]
    loc = [p for p in err.get("loc", ()) if p != "body"]
    kind = str(err.get("type", ""))
    path = ".".join(str(p) for p in loc)
    if kind == "json_invalid":
        return f"invalid character in JSON body: {err.get('msg', '')}"
    if kind == "missing" or kind == "string_too_short":
        return f"{path or 'body'} is required"
    if kind in _GO_TYPE:
        go_type = _GO_TYPE[kind]
        found = _json_kind(err.get("input"))
        if not loc:
            struct = str(model.model_config.get("title") or model.__name__) if model else "request"
            return f"json: cannot unmarshal {found} into Go value of type {struct}"
        struct = _innermost_struct(model, loc) if model else "request"
        return (
            f"json: cannot unmarshal {found} into Go struct field {struct}.{path} of type {go_type}"
        )
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{path}: {message}" if path else message
