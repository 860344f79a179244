"""`service.<name>.env`: replace the service's runtime variables, then read them back.

Under `env_policy: merge` the live keys the manifest does not name are kept; under `replace`
they go (`resolve_variables` decides, from the live values refresh saw)."""

from __future__ import annotations

from opendeploy_plan.apply.context import ApplyContext
from opendeploy_plan.apply.handlers.dependency import credentials_handed
from opendeploy_plan.apply.readback import expect_variables
from opendeploy_plan.plan import PlannedAction, resolve_variables
from opendeploy_plan.plan import addresses as addr

__all__ = ["apply"]


async def apply(ctx: ApplyContext, action: PlannedAction) -> None:
    name = addr.resource_name(action.address)
    assert name is not None, action.address
    project_id = ctx.require_project()
    service_id = ctx.service_id(name)
    svc = ctx.desired.services[name]
    live = ctx.live_services.get(name)
    live_env = dict(live.env) if live else {}
    variables = resolve_variables(svc.env, svc.uses, ctx.dependency_env, live_env, svc.env_policy)
    await ctx.client.replace_env(project_id, service_id, variables)
    read = await ctx.client.get_env(project_id, service_id)
    expect_variables(action.address, "env", variables, read.variables)
    credentials_handed(ctx, name)
    ctx.log(
        "deploy.env_replace",
        project_id=project_id,
        service_id=service_id,
        var_keys=sorted(variables),
        var_count=len(variables),
    )
