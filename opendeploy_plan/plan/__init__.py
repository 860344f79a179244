"""The pure planner: desired vs observed state → a `Plan` of addressed actions with a graph.

Usage (the CLI's part is the salt, the file write and the printing)::

    from opendeploy_plan.plan import PlanOptions, make_plan, new_salt, save_plan
    from opendeploy_plan.render import render_human, use_color

    plan = make_plan(desired, observed, PlanOptions(target=("service.web",), salt=new_salt()))
    print(render_human(plan, color=use_color(sys.stdout)), end="")
    if out_file and not plan.errors:
        Path(out_file).write_bytes(save_plan(plan, manifest_digest=..., gateway=...))
    sys.exit(plan.detailed_exit_code if detailed_exitcode else int(bool(plan.errors)))

See docs/plan.md for addresses, rules, the deployment stamp and the saved-plan format.
"""

from __future__ import annotations

from opendeploy_plan.plan.desired import (
    DependencyPart,
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    LiteralPart,
    SecretPart,
)
from opendeploy_plan.plan.diff import resolve_variables, unread_dependency_env
from opendeploy_plan.plan.document import (
    PlanDocument,
    SavedPlan,
    SavedPlanError,
    load_plan,
    new_salt,
    plan_document,
    plan_json,
    plan_json_schema,
    save_plan,
)
from opendeploy_plan.plan.model import (
    REASON_TEXT,
    ActionKind,
    ActionReason,
    AttributeChange,
    ChangeKind,
    DisplayValue,
    Mask,
    Plan,
    PlannedAction,
    PlanNote,
    PlanOptions,
    PlanSummary,
)
from opendeploy_plan.plan.planner import (
    make_plan,
    service_build_digest,
    service_config_digest,
    short_digest,
)
from opendeploy_plan.plan.settings import same_setting, settings_diff
from opendeploy_plan.plan.stamp import (
    Stamp,
    config_digest,
    format_stamp,
    is_rollback,
    parse_stamp,
    rollback_target_id,
    same_digest,
    source_stamp,
)

__all__ = [
    "REASON_TEXT",
    "ActionKind",
    "ActionReason",
    "AttributeChange",
    "ChangeKind",
    "DependencyPart",
    "DesiredDependency",
    "DesiredService",
    "DesiredSource",
    "DesiredState",
    "DesiredValue",
    "DisplayValue",
    "LiteralPart",
    "Mask",
    "Plan",
    "PlanDocument",
    "PlanNote",
    "PlanOptions",
    "PlanSummary",
    "PlannedAction",
    "SavedPlan",
    "SavedPlanError",
    "SecretPart",
    "Stamp",
    "config_digest",
    "format_stamp",
    "is_rollback",
    "load_plan",
    "make_plan",
    "new_salt",
    "parse_stamp",
    "plan_document",
    "plan_json",
    "plan_json_schema",
    "resolve_variables",
    "rollback_target_id",
    "same_digest",
    "same_setting",
    "save_plan",
    "service_build_digest",
    "service_config_digest",
    "settings_diff",
    "short_digest",
    "source_stamp",
    "unread_dependency_env",
]
