"""The planner's rules, one module per resource: each reads the desired and observed state from
a `PlanContext` and adds the actions (drafts), diagnostics and notes it decides on.

`opendeploy_plan.plan.planner.make_plan` runs them in order; `graph.py` then links and selects
the drafts. Adding a resource kind means one more module here (see docs/plan.md).
"""

from __future__ import annotations

from opendeploy_plan.plan.rules.binding import plan_source_bind
from opendeploy_plan.plan.rules.checks import (
    check_duplicate_dependencies,
    check_guest_caps,
    check_option_addresses,
    check_references,
)
from opendeploy_plan.plan.rules.context import Draft, PlanContext, adds, short_digest
from opendeploy_plan.plan.rules.dependencies import plan_dependencies
from opendeploy_plan.plan.rules.deployments import (
    plan_first_deployment,
    plan_redeployment,
    service_build_digest,
    service_config_digest,
)
from opendeploy_plan.plan.rules.domains import plan_domain, plan_new_domain
from opendeploy_plan.plan.rules.project import plan_project
from opendeploy_plan.plan.rules.prune import plan_unmanaged
from opendeploy_plan.plan.rules.services import (
    RowChanges,
    ServiceInputs,
    plan_new_service,
    plan_service_row,
    service_inputs,
)

__all__ = [
    "Draft",
    "PlanContext",
    "RowChanges",
    "ServiceInputs",
    "adds",
    "check_duplicate_dependencies",
    "check_guest_caps",
    "check_option_addresses",
    "check_references",
    "plan_dependencies",
    "plan_domain",
    "plan_first_deployment",
    "plan_new_domain",
    "plan_new_service",
    "plan_project",
    "plan_redeployment",
    "plan_service_row",
    "plan_source_bind",
    "plan_unmanaged",
    "service_build_digest",
    "service_config_digest",
    "service_inputs",
    "short_digest",
]
