"""`service.<name>.domain`: rename the service's auto domain to the manifest's subdomain.

The auto domain row appears a little after the first deployment succeeds (domain.md: ≤ 30 s),
so `auto_domain_row` waits for it; the executor uses it too, for the final report's live URLs.
"""

from __future__ import annotations

from opendeploy_plan import platform
from opendeploy_plan.apply.context import ApplyContext, ServiceOutcomeRecord
from opendeploy_plan.apply.errors import ApplyError, SubdomainUnavailable
from opendeploy_plan.apply.polling import PollPolicy, PollTimeout, poll_until
from opendeploy_plan.apply.readback import expect
from opendeploy_plan.gateway import Conflict, ServiceDomain
from opendeploy_plan.plan import PlannedAction
from opendeploy_plan.plan import addresses as addr

__all__ = ["ROW_TIMEOUT", "apply", "auto_domain_row"]

# How long to wait for the auto-domain row after a deployment succeeds (domain.md: ≤ 30 s).
ROW_TIMEOUT = 30.0


async def apply(ctx: ApplyContext, action: PlannedAction) -> None:
    name = addr.resource_name(action.address)
    assert name is not None, action.address
    service_id = ctx.service_id(name)
    subdomain = ctx.desired.services[name].subdomain
    if not subdomain:
        raise ApplyError(f"{action.address}: no subdomain in the manifest")
    environment = ctx.desired.environment
    target = platform.auto_domain(subdomain, environment)
    row = await auto_domain_row(ctx, action, service_id)
    if row.domain != target:
        check = await ctx.client.check_subdomain(subdomain)
        # "reserved" is final. "taken" is only advisory: the check names no environment, so the
        # same prefix in the other environment (`x.dev.opendeploy.run` for staging) may answer
        # "taken" although this environment's name is free; the rename's own 409 is the
        # authority.
        if not check.available and check.reason != "taken":
            raise _unavailable(subdomain, check.reason or "unavailable")
        try:
            await ctx.client.rename_subdomain(row.id, subdomain)
        except Conflict as exc:
            raise _unavailable(subdomain, "taken") from exc
    rows = await ctx.client.list_service_domains(service_id, environment=environment, type="auto")
    got = next((r.domain for r in rows if r.id == row.id), "")
    expect(action.address, "domain", target, got)
    ctx.deployments.setdefault(name, ServiceOutcomeRecord()).url = f"https://{target}"
    ctx.log("domain.rename", service_id=service_id, subdomain=subdomain, environment=environment)


async def auto_domain_row(
    ctx: ApplyContext, action: PlannedAction, service_id: str
) -> ServiceDomain:
    """The auto domain row; it can appear a little after the deployment succeeds."""

    async def fetch() -> list[ServiceDomain]:
        return await ctx.client.list_service_domains(
            service_id, environment=ctx.desired.environment, type="auto"
        )

    try:
        rows = await poll_until(
            fetch,
            bool,
            policy=PollPolicy.fixed(ctx.domain_poll_seconds, ROW_TIMEOUT),
            on_wait=lambda _rows: ctx.progress(action, "waiting for the auto domain"),
        )
    except PollTimeout:
        raise ApplyError(
            f"{action.address}: the deployment succeeded but its auto domain did not "
            f"appear within {ROW_TIMEOUT:.0f} s",
            "Ingress wiring is slow; run `odplan apply` again in a minute to rename it.",
        ) from None
    return rows[0]


def _unavailable(subdomain: str, reason: str) -> SubdomainUnavailable:
    return SubdomainUnavailable(
        f"subdomain {subdomain!r} is {reason}",
        "Choose another `subdomain` in opendeploy.yaml: odplan never picks a different name "
        "for you (the manifest is the truth).",
    )
