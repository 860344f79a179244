"""What the gateway would refuse at apply, asked at plan time: checks that need a request
beyond refresh, so the pure planner cannot make them.

- **No credential**: nothing can be read; say how to get one instead of letting the first
  request fail as "the gateway rejected the API key".
- **The guest one-project cap** (setup.md: a second `POST /projects/` from an unlinked guest
  credential answers 409): a plan that creates a project for a guest that already holds one
  names the existing project.
- **Subdomains** (domain.md 8.1, `GET /v1/service-domains/check-subdomain/:subdomain`): a
  subdomain the plan renames to that is taken or reserved. A gateway without the route (404)
  cannot be asked (nor one whose route keeps answering 5xx): a note says so and apply finds
  out.

The guest resource caps need no request: the planner checks them (`plan.rules.checks`).
"""

from __future__ import annotations

import asyncio
import dataclasses

from opendeploy_plan import platform
from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.engine.prepare import Prepared
from opendeploy_plan.gateway import GatewayClient, NotFound, ServerError
from opendeploy_plan.ops.live import OpsError
from opendeploy_plan.plan import ActionKind, PlanNote
from opendeploy_plan.plan import addresses as addr

__all__ = ["NoCredential", "gateway_checks", "require_credential"]

GUEST_CAPS = "1 project, 1 service, 1 vCPU and 1 GiB per service, 1 replica"


class NoCredential(OpsError):
    """No credential to read the live project with."""


def require_credential(client: GatewayClient) -> None:
    """Raise `NoCredential` (message + what to do) when the client has no credential."""
    if client.has_credential:
        return
    raise NoCredential(
        f"no credential for {client.base_url}: the live project cannot be read",
        hint="`odplan apply` offers to create a guest credential first (a local deploy credential, "
        f"no account needed: {GUEST_CAPS}; its projects are collected after 6 hours unless it "
        "is linked to an account; saved in ~/.opendeploy/auth.json). Or create one now with "
        "`odplan login --guest`, or use a dashboard token: `odplan login --token od_…` "
        "(or OD_API_KEY). Then plan again.",
    )


async def gateway_checks(client: GatewayClient, prepared: Prepared) -> None:
    """Add to `prepared.plan` the errors apply would otherwise meet at the gateway (and the
    notes on what could not be checked). Mutates `prepared`; no-op without a plan."""
    plan = prepared.plan
    if plan is None or prepared.resolution is None or prepared.resolution.desired is None:
        return
    errors: list[Diagnostic] = []
    notes: list[PlanNote] = []
    if plan.options.guest and prepared.observed is not None and prepared.observed.project is None:
        errors += await _guest_project_cap(client, plan.project)
    desired = prepared.resolution.desired
    # A domain this project's services hold now is freed by a replace, not taken by a stranger.
    held = {
        live.domain.domain
        for live in (prepared.observed.services.values() if prepared.observed else ())
        if live.domain is not None
    }
    wanted = {
        name: subdomain
        for action in plan.actions
        if action.kind is ActionKind.RENAME_DOMAIN
        and (name := addr.service_name(action.address)) is not None
        and (subdomain := desired.services[name].subdomain)
        and platform.auto_domain(subdomain, desired.environment) not in held
    }
    live_project = prepared.observed.project if prepared.observed else None
    shared = live_project.other_environment_rows if live_project else ()
    found, unchecked = await _subdomains(client, wanted, shared)
    errors += found
    if unchecked:
        notes.append(
            PlanNote(
                addr.PROJECT,
                "could not check whether subdomain(s) "
                + ", ".join(sorted(unchecked))
                + " are free (the gateway's check-subdomain route is missing or failing); apply "
                "will find out",
            )
        )
    if not errors and not notes:
        return
    prepared.plan = dataclasses.replace(
        plan, diagnostics=(*plan.diagnostics, *errors), notes=(*plan.notes, *notes)
    )
    prepared.diagnostics.extend(errors)


async def _guest_project_cap(client: GatewayClient, project: str) -> list[Diagnostic]:
    held = sorted(p.name for p in await client.list_projects() if p.name != project)
    if not held:
        return []
    names = ", ".join(repr(n) for n in held)
    return [
        Diagnostic(
            "",
            0,
            0,
            "error",
            addr.PROJECT,
            f"this guest credential already holds project {names}; a guest credential not "
            f"linked to an account holds one project at a time, so creating {project!r} "
            "would be refused (409)",
            f"Deploy as that project (project.name: {held[0]}), delete it (`odplan destroy "
            "--allow-data-loss` with its manifest), or link the credential to an account "
            "(the binding URL `odplan whoami` shows): linked accounts have no guest caps.",
        )
    ]


async def _subdomains(
    client: GatewayClient, wanted: dict[str, str], other_environment_rows: tuple[str, ...]
) -> tuple[list[Diagnostic], set[str]]:
    """(errors for taken or reserved subdomains, subdomains the gateway could not check).

    The check takes a prefix, not an environment (domain.md 8.1): a prefix this project's
    other environment holds (`web` in staging and in production) answers "taken" although
    the rename here may well succeed. When a service of that name lives in the other
    environment, "taken" is a warning, not an error."""

    async def ask(subdomain: str) -> tuple[bool, str] | None:
        try:
            answer = await client.check_subdomain(subdomain)
        except (NotFound, ServerError):
            # No such route, or it keeps failing: the check is advisory, apply finds out.
            return None
        return answer.available, answer.reason

    answers = await asyncio.gather(*(ask(s) for s in wanted.values()))
    errors: list[Diagnostic] = []
    unchecked: set[str] = set()
    for (name, subdomain), answer in zip(wanted.items(), answers, strict=True):
        if answer is None:
            unchecked.add(subdomain)
            continue
        available, reason = answer
        if available:
            continue
        why = {"taken": "is already taken", "reserved": "is reserved by the platform"}.get(
            reason, f"is not available ({reason or 'no reason given'})"
        )
        ours = any(row.startswith(f"service.{name} (") for row in other_environment_rows)
        if reason == "taken" and ours:
            errors.append(
                Diagnostic(
                    "",
                    0,
                    0,
                    "warning",
                    addr.service_domain(name),
                    f"subdomain {subdomain!r} is taken, perhaps by service {name} of this "
                    "project in the other environment",
                    "If it is held elsewhere, the rename fails at apply; choose another "
                    "`subdomain:` then.",
                )
            )
            continue
        errors.append(
            Diagnostic(
                "",
                0,
                0,
                "error",
                addr.service_domain(name),
                f"subdomain {subdomain!r} {why}",
                f"Choose another `subdomain:` for service {name}, or leave it out to keep the "
                "platform's generated one.",
            )
        )
    return errors, unchecked
