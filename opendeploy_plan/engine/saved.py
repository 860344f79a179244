"""Applying a saved plan: read the plan file, re-plan with its options, refuse it when stale.

A saved plan is applied only when re-planning now gives the same actions from the same
manifest, gateway, environment, live state and secret values; otherwise apply refuses with
"Saved plan is stale" and what to do, as Terraform does.

The hashes a plan file keeps (secret values, the live state's fingerprint) are keyed by a
`PlanKey` the file does not hold: HMAC-SHA256 of the file's random salt under a secret both the
planning and the applying job have, `OD_PLAN_KEY` when set, else the gateway credential's API
key. The file alone therefore cannot test guesses of a secret (with the salt beside the key,
a 6-digit secret fell in about a second); it only records a short check value, so apply can
say "made with another key" instead of "every secret changed".
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Protocol

from opendeploy_plan.engine.prepare import Prepared
from opendeploy_plan.errors import OdplanError
from opendeploy_plan.plan import PlanOptions, SavedPlan, SavedPlanError, load_plan

__all__ = [
    "PLAN_KEY_ENV",
    "PlanFileUnusable",
    "PlanKey",
    "PlanKeyMissing",
    "StalePlan",
    "check_saved_current",
    "check_saved_identity",
    "new_plan_key",
    "read_saved_plan",
    "saved_plan_options",
    "unlock_saved_plan",
]

PLAN_KEY_ENV: Final = "OD_PLAN_KEY"
_KEY_CONTEXT: Final = b"odplan saved-plan hashes v2\0"
_CHECK_CONTEXT: Final = b"odplan saved-plan key check"

_REPLAN = "Run `odplan plan --out FILE` again."
_REVIEW = "Run `odplan plan --out FILE` again and review the new plan."


class PlanFileUnusable(OdplanError, ValueError):
    """The plan file cannot be read or decoded."""


class StalePlan(OdplanError):
    """The saved plan no longer describes what applying it now would do."""


class PlanKeyMissing(OdplanError):
    """`plan --out` with neither `OD_PLAN_KEY` nor a credential: nothing to key the hashes."""


class _HasApiKey(Protocol):
    @property
    def api_key(self) -> str: ...


@dataclasses.dataclass(frozen=True)
class PlanKey:
    """What keys a saved plan's hashes. `salt` is written in the file, `key` never is;
    `check` (written) tells apply whether it derived the same key."""

    salt: bytes = dataclasses.field(repr=False)
    key: bytes = dataclasses.field(repr=False)
    check: str
    source: str  # "OD_PLAN_KEY" or "credential", for messages


def _secret_of(credential: _HasApiKey | None, env: Mapping[str, str]) -> tuple[str, str] | None:
    explicit = env.get(PLAN_KEY_ENV, "")
    if explicit:
        return explicit, PLAN_KEY_ENV
    if credential is not None and credential.api_key:
        return credential.api_key, "credential"
    return None


def _derive(salt: bytes, secret: str, source: str) -> PlanKey:
    key = hmac.new(secret.encode(), _KEY_CONTEXT + salt, hashlib.sha256).digest()
    check = hmac.new(key, _CHECK_CONTEXT, hashlib.sha256).hexdigest()[:16]
    return PlanKey(salt=salt, key=key, check=f"hmac-sha256:{check}", source=source)


def new_plan_key(credential: _HasApiKey | None, env: Mapping[str, str]) -> PlanKey:
    """A fresh key for `plan --out` (raises `PlanKeyMissing`)."""
    from opendeploy_plan.plan import new_salt

    found = _secret_of(credential, env)
    if found is None:
        raise PlanKeyMissing(
            "cannot save a plan without a key: its secret hashes are keyed by OD_PLAN_KEY or "
            "by your credential, and neither is set",
            f"Log in (`odplan login`), or export {PLAN_KEY_ENV} (32+ random characters) in "
            "both the job that plans and the job that applies.",
        )
    return _derive(new_salt(), *found)


def unlock_saved_plan(
    saved: SavedPlan, credential: _HasApiKey | None, env: Mapping[str, str]
) -> SavedPlan:
    """The saved plan with its hashes' key in place of the salt, for `saved_plan_options`,
    `check_saved_current` and the plan's own checks (this copy is never written anywhere).
    Raises `PlanFileUnusable` for a plan made before keyed hashes, `StalePlan` when this job's
    key is not the planning job's."""
    if saved.key_check is None:
        raise PlanFileUnusable(
            "cannot use the plan file: it was made by an older odplan, whose secret hashes can "
            "be tested offline (delete the file)",
            _REPLAN,
        )
    found = _secret_of(credential, env)
    key = _derive(saved.salt_bytes(), *found) if found is not None else None
    if key is None or not hmac.compare_digest(key.check, saved.key_check):
        used = f"{PLAN_KEY_ENV} or the credential" if key is None else key.source
        raise StalePlan(
            f"Saved plan is stale: it was made with another key than this job's ({used})",
            f"Apply with the credential (or {PLAN_KEY_ENV}) the plan was made with, or "
            "run `odplan plan --out FILE` again.",
        )
    return saved.model_copy(update={"salt": key.key.hex()})


def read_saved_plan(planfile: Path) -> SavedPlan:
    """The decoded plan file (raises `PlanFileUnusable`)."""
    try:
        saved = load_plan(planfile.read_bytes())
        saved.salt_bytes()  # a hand-edited salt is a bad file, not a traceback
        return saved
    except (OSError, ValueError, SavedPlanError) as exc:
        raise PlanFileUnusable(
            f"cannot use the plan file {planfile}: {exc}",
            "Make a new one with `odplan plan --out FILE`.",
        ) from exc


def saved_plan_options(saved: SavedPlan, *, guest: bool) -> PlanOptions:
    """The options the plan was made with (same key: pass the `unlock_saved_plan` copy);
    `guest` is what the gateway says now."""
    return dataclasses.replace(saved.plan_options(), guest=guest)


def check_saved_identity(saved: SavedPlan, prepared: Prepared, gateway: str) -> None:
    """Before any request: same manifest bytes, gateway and environment (raises `StalePlan`)."""
    problems = []
    if saved.manifest_digest != prepared.manifest_digest:
        problems.append(f"{prepared.manifest_path} changed since the plan was made")
    if saved.gateway.rstrip("/") != gateway.rstrip("/"):
        problems.append(f"the plan was made for {saved.gateway}, not {gateway}")
    if prepared.load.environment != saved.environment:
        problems.append(f"the plan is for {saved.environment}, not {prepared.load.environment}")
    if problems:
        raise StalePlan("Saved plan is stale: " + "; ".join(problems), _REPLAN)


def check_saved_current(saved: SavedPlan, prepared: Prepared) -> None:
    """After re-planning: same live state, secret values and actions (raises `StalePlan`)."""
    assert prepared.observed is not None and prepared.resolution is not None
    assert prepared.resolution.desired is not None and prepared.plan is not None
    stale = saved.stale_addresses(prepared.observed)
    if stale:
        raise StalePlan(
            "Saved plan is stale: the live state changed since it was made:\n  - "
            + "\n  - ".join(stale),
            _REVIEW,
        )
    secrets = saved.changed_secrets(prepared.resolution.desired)
    if secrets:
        raise StalePlan(
            "Saved plan is stale: these secret values changed since it was made:\n  - "
            + "\n  - ".join(secrets),
            "Run `odplan plan --out FILE` again with the secrets you mean to deploy.",
        )
    if not saved.matches(prepared.plan):
        raise StalePlan("Saved plan is stale: planning again now gives different actions", _REVIEW)
