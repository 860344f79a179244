"""Read-back: after every mutation apply reads the resource again and compares, here.

A mismatch raises `ReadBackMismatch` naming the address and the field; variable maps are
compared by key and never print a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opendeploy_plan.apply.errors import ReadBackMismatch
from opendeploy_plan.gateway import Service
from opendeploy_plan.plan import DesiredService, same_setting
from opendeploy_plan.state.refresh import unreturned_fields

__all__ = [
    "check_settings",
    "expect",
    "expect_gone",
    "expect_variables",
    "same_setting",
    "unverified",
]


def expect(address: str, name: str, want: Any, got: Any) -> None:
    if want != got:
        raise ReadBackMismatch(address, name, repr(want), repr(got))


def expect_gone(address: str, still_listed: bool) -> None:
    """A delete's read-back: the resource must no longer be listed."""
    if still_listed:
        raise ReadBackMismatch(address, "existence", "deleted", "still listed")


def expect_variables(
    address: str, what: str, sent: Mapping[str, str], got: Mapping[str, str]
) -> None:
    """Compare variable maps by key, never printing a value."""
    missing = sorted(set(sent) - set(got))
    extra = sorted(set(got) - set(sent))
    changed = sorted(k for k in set(sent) & set(got) if sent[k] != got[k])
    if missing or extra or changed:
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
                f"different value for {', '.join(changed)}" if changed else "",
            )
            if part
        )
        raise ReadBackMismatch(address, what, "what was sent", detail)


def check_settings(
    address: str, svc: DesiredService, read: Service, only: set[str] | None = None
) -> None:
    """The service row has every manifest setting (or only those in `only`)."""
    row = read.model_dump()
    for name, want in svc.settings().items():
        if only is not None and name not in only:
            continue
        if not same_setting(name, want, row.get(name)):
            expect(address, name, want, row.get(name))
    if (only is None or "dependencies" in only) and "dependencies" not in unreturned_fields(read):
        got = row.get("dependencies") or []
        if not same_setting("dependencies", list(svc.after), got):
            expect(address, "dependencies", sorted(svc.after), sorted(got))


def unverified(read: Service, sent: Mapping[str, Any]) -> list[str]:
    """The fields apply sent that the gateway's answer does not show, so could not be checked
    (the documents never show a service's `dependencies` or `build_variables`)."""
    return sorted(name for name in unreturned_fields(read) if sent.get(name))
