"""Loader for the golden planner cases in `tests/plan/cases/` (pyinfra style: one JSON per case).

A case is `{description, desired, observed, options, expected_actions}` plus optional
`expected_diagnostics`, `expected_notes`, `expected_unmanaged`, `expected_drift` and
`expected_values` (address → path → [before, after] in the JSON encoding).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opendeploy_plan.plan import DesiredState, Plan, PlanOptions, make_plan
from opendeploy_plan.state.model import ObservedState

CASES_DIR = Path(__file__).parent / "cases"


@dataclass(frozen=True)
class GoldenCase:
    name: str
    description: str
    desired: DesiredState
    observed: ObservedState
    options: PlanOptions
    raw: dict[str, Any]


def options_from_json(data: dict[str, Any]) -> PlanOptions:
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return PlanOptions(**values)


def load_case(path: Path) -> GoldenCase:
    raw = json.loads(path.read_text())
    return GoldenCase(
        name=path.stem,
        description=raw["description"],
        desired=DesiredState.model_validate(raw["desired"]),
        observed=ObservedState.model_validate(raw["observed"]),
        options=options_from_json(raw.get("options", {})),
        raw=raw,
    )


def quiet_plan(**fields: object) -> Plan:
    """The plan of the no-changes case with `fields` replaced: a hand-built plan for the views."""
    case = load_case(next(CASES_DIR.glob("*no_changes.json")))
    plan = make_plan(case.desired, case.observed, case.options)
    return dataclasses.replace(plan, **fields)  # type: ignore[arg-type]


def case_paths() -> list[Path]:
    return sorted(CASES_DIR.glob("*.json"))


def secret_values(case: GoldenCase) -> list[str]:
    """Every value a view must never show: desired secrets and live dependency variables."""
    values: list[str] = []
    for svc in case.desired.services.values():
        for value in [*svc.env.values(), *svc.build_env.values()]:
            for part in value.parts:
                if part.kind == "secret":
                    values.append(part.value.get_secret_value())
    for dep in case.observed.dependencies.values():
        values.extend(v.get_secret_value() for v in dep.env_vars.values())
    return values
