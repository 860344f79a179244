"""The plan as JSON (`odplan plan --json`) and as a saved plan file (`odplan plan --out FILE`).

`plan_document(plan)` is the `--json` view (schema: `schemas/plan.schema.json`, regenerate with
`python -m opendeploy_plan.plan.document > schemas/plan.schema.json`). `save_plan` adds what
apply needs to trust the file later: manifest digest, gateway, salt, per-address observed
fingerprint, and salted hashes of every secret-bearing value. A secret value is never written.
At apply time: `load_plan(bytes)` → refresh → `saved.stale_addresses(observed)` must be empty →
resolve the manifest again → `saved.changed_secrets(desired)` must be empty → re-run `make_plan`
with `saved.plan_options()` and check `saved.matches(plan)`.
"""

from __future__ import annotations

import json
import os
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opendeploy_plan.errors import OdplanError
from opendeploy_plan.plan.desired import DesiredState
from opendeploy_plan.plan.fingerprint import fingerprint_parts, parts_changed
from opendeploy_plan.plan.model import (
    REASON_TEXT,
    AttributeChange,
    DisplayValue,
    Mask,
    Plan,
    PlannedAction,
    PlanOptions,
)
from opendeploy_plan.state.model import ObservedState

FORMAT_VERSION: Final = 1
SAVED_PLAN_KIND: Final = "odplan-saved-plan"

# Built on first use (`defer_build`): only `--json`, `-out` and a saved plan need these models,
# and building them cost every `odplan plan`/`apply` ~15 ms of CPU at import.
_STRICT = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SavedPlanError(OdplanError, ValueError):
    """A saved plan file that cannot be used (corrupt, other format version, wrong kind)."""


def encode_value(value: DisplayValue) -> Any:
    """JSON form of a display value: masks become `{"sensitive": true}` / `{"unknown": true}`."""
    if value is Mask.SENSITIVE:
        return {"sensitive": True}
    if value is Mask.UNKNOWN:
        return {"unknown": True}
    return value


class ChangeDoc(BaseModel):
    model_config = _STRICT
    path: str = Field(description="Attribute path, e.g. `port`, `env.API_KEY`, `domain`.")
    change: Literal["add", "remove", "change"]
    before: Any = Field(
        None, description='Value before; `{"sensitive": true}` or `{"unknown": true}` if masked.'
    )
    after: Any = Field(None, description="Value after, masked like `before`.")
    note: str | None = None


class ActionDoc(BaseModel):
    model_config = _STRICT
    address: str
    action: Literal[
        "create", "update", "replace", "delete", "bind_source", "deploy", "rename_domain", "wait"
    ]
    reason: str = Field(description="UI-only explanation; never drives apply.")
    reason_text: str
    detail: str | None = None
    depends_on: list[str]
    waits_for_deployment: str | None = None
    changes: list[ChangeDoc]


class DiagnosticDoc(BaseModel):
    model_config = _STRICT
    severity: Literal["error", "warning"]
    address: str
    summary: str
    detail: str = ""


class NoteDoc(BaseModel):
    model_config = _STRICT
    address: str
    message: str


class SummaryDoc(BaseModel):
    model_config = _STRICT
    create: int
    update: int
    destroy: int
    deploy: int
    wait: int
    upload: int


class OptionsDoc(BaseModel):
    model_config = _STRICT
    target: list[str] = []
    exclude: list[str] = []
    redeploy: list[str] = []
    replace: list[str] = []
    refresh_only: bool = False
    prune: bool = False
    allow_data_loss: bool = False
    guest: bool = False


class PlanDocument(BaseModel):
    """`odplan plan --json`: the plan, display-safe (no secret values, no salt)."""

    model_config = _STRICT
    format_version: Literal[1] = FORMAT_VERSION
    project: str
    environment: str
    refresh_only: bool
    has_changes: bool
    summary: SummaryDoc
    options: OptionsDoc
    observed_fingerprint: str
    source_digest: str
    actions: list[ActionDoc]
    drift: list[ActionDoc]
    unmanaged: list[str]
    diagnostics: list[DiagnosticDoc]
    notes: list[NoteDoc]


class SavedPlan(PlanDocument):
    """A saved plan file: the JSON document plus what apply needs to verify it."""

    kind: Literal["odplan-saved-plan"] = SAVED_PLAN_KIND
    manifest_digest: str
    gateway: str
    salt: str = Field(
        description="Hex salt; the hashes are keyed by HMAC(OD_PLAN_KEY or the credential, "
        "salt), which this file does not hold."
    )
    key_check: str | None = Field(
        None, description="Check value of the hashes' key (apply compares its own)."
    )
    fingerprint_parts: dict[str, str]
    secret_hashes: dict[str, str] = Field(
        description="`service.<name>.env.<KEY>` → keyed hash of the secret-bearing value."
    )

    def salt_bytes(self) -> bytes:
        return bytes.fromhex(self.salt)

    def plan_options(self) -> PlanOptions:
        """The options the plan was made with (same salt), to re-plan at apply time."""
        o = self.options
        return PlanOptions(
            target=tuple(o.target),
            exclude=tuple(o.exclude),
            redeploy=tuple(o.redeploy),
            replace=tuple(o.replace),
            refresh_only=o.refresh_only,
            prune=o.prune,
            allow_data_loss=o.allow_data_loss,
            guest=o.guest,
            salt=self.salt_bytes(),
        )

    def stale_addresses(self, observed: ObservedState) -> list[str]:
        """Addresses whose live state changed since the plan was made; empty = still current."""
        return parts_changed(self.fingerprint_parts, fingerprint_parts(observed, self.salt_bytes()))

    def changed_secrets(self, desired: DesiredState) -> list[str]:
        """Secret-bearing values whose value (re-resolved now) differs from planning time,
        as `service.web.env.KEY (secret NAME)`; apply refuses if any."""
        now: dict[str, tuple[str, tuple[str, ...]]] = {}
        salt = self.salt_bytes()
        for name, svc in desired.services.items():
            for prefix, values in (("env", svc.env), ("build_env", svc.build_env)):
                for key, value in values.items():
                    if value.has_secret:
                        now[f"service.{name}.{prefix}.{key}"] = (
                            value.salted_hash(salt),
                            value.secret_names,
                        )
        changed: list[str] = []
        for path in sorted(set(now) | set(self.secret_hashes)):
            if path in now and self.secret_hashes.get(path) == now[path][0]:
                continue
            names = now[path][1] if path in now else ()
            label = f" (secret {', '.join(names)})" if names else ""
            changed.append(path + label)
        return changed

    def matches(self, plan: Plan) -> bool:
        """True when `plan` (re-made at apply time) does exactly what this file says."""
        return [_action_doc(a) for a in plan.actions] == self.actions


def _change_doc(change: AttributeChange) -> ChangeDoc:
    return ChangeDoc(
        path=change.path,
        change=change.kind.value,
        before=encode_value(change.before),
        after=encode_value(change.after),
        note=change.note,
    )


def _action_doc(action: PlannedAction) -> ActionDoc:
    return ActionDoc(
        address=action.address,
        action=action.kind.value,
        reason=action.reason.value,
        reason_text=REASON_TEXT[action.reason],
        detail=action.detail,
        depends_on=list(action.depends_on),
        waits_for_deployment=action.waits_for_deployment,
        changes=[_change_doc(c) for c in action.changes],
    )


def _document_fields(plan: Plan) -> dict[str, Any]:
    s = plan.summary
    o = plan.options
    return {
        "project": plan.project,
        "environment": plan.environment,
        "refresh_only": plan.refresh_only,
        "has_changes": plan.has_changes,
        "summary": SummaryDoc(
            create=s.create,
            update=s.update,
            destroy=s.destroy,
            deploy=s.deploy,
            wait=s.wait,
            upload=s.upload,
        ),
        "options": OptionsDoc(
            target=list(o.target),
            exclude=list(o.exclude),
            redeploy=list(o.redeploy),
            replace=list(o.replace),
            refresh_only=o.refresh_only,
            prune=o.prune,
            allow_data_loss=o.allow_data_loss,
            guest=o.guest,
        ),
        "observed_fingerprint": plan.fingerprint,
        "source_digest": plan.source_digest,
        "actions": [_action_doc(a) for a in plan.actions],
        "drift": [_action_doc(a) for a in plan.drift],
        "unmanaged": list(plan.unmanaged),
        "diagnostics": [
            DiagnosticDoc(severity=d.severity, address=d.path, summary=d.summary, detail=d.detail)
            for d in plan.diagnostics
        ],
        "notes": [NoteDoc(address=n.address, message=n.message) for n in plan.notes],
    }


def plan_document(plan: Plan) -> PlanDocument:
    """The `--json` view of a plan."""
    return PlanDocument(**_document_fields(plan))


def plan_json(plan: Plan) -> str:
    """`odplan plan --json` output (indented, trailing newline)."""
    return plan_document(plan).model_dump_json(indent=2) + "\n"


def new_salt() -> bytes:
    """A fresh random salt for `PlanOptions(salt=...)` (the one effectful helper here)."""
    return os.urandom(16)


def save_plan(
    plan: Plan,
    *,
    manifest_digest: str,
    gateway: str,
    salt: bytes | None = None,
    key_check: str | None = None,
) -> bytes:
    """Serialize `plan` for `--out FILE`. Raises ValueError when the plan has errors or was
    made without a salt (hashes would then be unsalted). With `salt`, `plan.options.salt` is
    a key derived from it (engine.saved.PlanKey) and only `salt` and `key_check` are written."""
    if plan.errors:
        raise ValueError("a plan with errors cannot be saved")
    if not plan.options.salt:
        raise ValueError("plan options carry no salt: plan with PlanOptions(salt=new_salt())")
    saved = SavedPlan(
        **_document_fields(plan),
        manifest_digest=manifest_digest,
        gateway=gateway,
        salt=(salt if salt is not None else plan.options.salt).hex(),
        key_check=key_check,
        fingerprint_parts=dict(plan.fingerprint_parts),
        secret_hashes=dict(plan.secret_hashes),
    )
    return (saved.model_dump_json(indent=2) + "\n").encode()


def load_plan(data: bytes) -> SavedPlan:
    """Parse a saved plan; raises SavedPlanError with a readable reason."""
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SavedPlanError(f"not a saved plan (invalid JSON: {exc})") from exc
    if not isinstance(raw, dict) or raw.get("kind") != SAVED_PLAN_KIND:
        raise SavedPlanError("not an odplan saved plan (missing kind: odplan-saved-plan)")
    if raw.get("format_version") != FORMAT_VERSION:
        raise SavedPlanError(
            f"saved plan format_version {raw.get('format_version')!r} is not supported "
            f"(this odplan reads {FORMAT_VERSION}); re-run odplan plan --out"
        )
    try:
        return SavedPlan.model_validate(raw)
    except ValidationError as exc:
        raise SavedPlanError(f"saved plan is corrupt: {exc.errors()[0]['msg']}") from exc


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of `odplan plan --json` output."""
    schema = PlanDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "odplan plan --json"
    return schema


def schema_text() -> str:
    return json.dumps(plan_json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(schema_text(), end="")
