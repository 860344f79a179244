"""The final deploy report's content: what every managed service ended as, and where it lives.

Branch A (a guest credential not linked to an account) carries the account-binding URL; Branch B
(dashboard token or bound credential) the dashboard project URL (the skill's deploy.md Step 9).
Assembled here, after apply or a day-two operation; `render.deploy_report` prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from opendeploy_plan.platform import dashboard_host

if TYPE_CHECKING:
    from opendeploy_plan.apply.executor import ApplyResult
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import GatewayClient

__all__ = [
    "DeployReport",
    "ServiceOutcome",
    "apply_headline",
    "bare_report",
    "failed_actions",
    "https",
    "operation_headline",
    "read_final_report",
]


@dataclass(frozen=True)
class ServiceOutcome:
    """One service's line in the report."""

    name: str
    status: str
    deployment_id: str = ""
    url: str = ""


@dataclass(frozen=True)
class DeployReport:
    """Everything the final report shows; `bind_url` is set only for an unbound guest."""

    project_name: str
    project_id: str
    environment: str
    gateway: str
    services: list[ServiceOutcome] = field(default_factory=list)
    bind_url: str = ""
    log_file: str = ""
    # Actions of this run that did not succeed (failed, skipped or never started): a failed
    # rename fails the apply though every deployment succeeded.
    failed_actions: tuple[str, ...] = ()
    # What happened, in a few words ("Deployment successful", "Subdomain renamed", "No
    # changes", "Deployment cancelled"); "" means the deployment headline of `succeeded`.
    headline: str = ""
    # Set when success is not "every service's deployment succeeded" (a cancel succeeds when
    # the deployment ends cancelled; a no-op apply changed nothing and still succeeded).
    ok: bool | None = None
    # Locally: the note that marks links nothing serves (the in-process, simulated gateway).
    local_note: str = ""

    @property
    def is_bound(self) -> bool:
        return not self.bind_url

    @property
    def succeeded(self) -> bool:
        if self.ok is not None:
            return self.ok and not self.failed_actions
        return (
            bool(self.services)
            and all(s.status == "success" for s in self.services)
            and not self.failed_actions
        )

    @property
    def project_url(self) -> str:
        url = f"{dashboard_host(self.gateway)}/projects/{self.project_id}"
        return f"{url} {self.local_note}" if self.local_note else url

    def bind_url_with_app(self) -> str:
        """The binding URL with `url=<first live URL>` appended, as the skill prints it."""
        first = next((s.url.split(" ")[0] for s in self.services if s.url), "")
        if not self.bind_url or not first:
            return self.bind_url
        separator = "&" if "?" in self.bind_url else "?"
        url = f"{self.bind_url}{separator}url={quote(first, safe='')}"
        return f"{url} {self.local_note}" if self.local_note else url

    @property
    def title(self) -> str:
        """The headline: what happened."""
        if self.headline:
            return self.headline
        return "Deployment successful" if self.succeeded else "Deployment failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "success" if self.succeeded else "failed",
            "headline": self.title,
            "project": {"name": self.project_name, "id": self.project_id},
            "environment": self.environment,
            "services": [
                {
                    "name": s.name,
                    "status": s.status,
                    "deployment_id": s.deployment_id,
                    "url": s.url,
                }
                for s in self.services
            ],
            "bound": self.is_bound,
            "bind_url": self.bind_url_with_app() if not self.is_bound else None,
            "dashboard_url": self.project_url if self.is_bound else None,
            "log_file": self.log_file,
        }


def https(url: str) -> str:
    """Domains come back bare (`web.opendeploy.run`); the report links them with https://."""
    if not url or url.startswith(("https://", "http://")):
        return url
    return f"https://{url}"


def failed_actions(result: ApplyResult | None) -> tuple[str, ...]:
    """The actions of a run that did not succeed (failed, skipped or never started)."""
    return tuple(
        r.name
        for r in (result.report.results if result is not None else [])
        if r.outcome.value != "succeeded"
    )


def apply_headline(plan_kinds: Mapping[str, str], result: ApplyResult | None) -> str:
    """What an apply did, in a few words. `plan_kinds` maps each planned address to its action
    kind (`deploy`, `rename_domain`, …); `result` is None when nothing was to do."""
    if result is None or not plan_kinds:
        return "No changes: the live platform already matches the manifest"
    report = result.report
    outcomes = {r.name: r.outcome.value for r in report.results}
    kinds = set(plan_kinds.values())
    if report.interrupted:
        return "Apply interrupted"
    if not report.ok:
        failed = [a for a, o in outcomes.items() if o == "failed"]
        failed_kinds = {plan_kinds.get(a, "") for a in failed}
        if "deploy" in failed_kinds or "wait" in failed_kinds:
            return "Deployment failed"
        if failed_kinds == {"rename_domain"}:
            return "Subdomain rename failed"
        return "Apply failed"
    if "deploy" in kinds:
        return "Deployment successful"
    if kinds == {"rename_domain"}:
        return "Subdomain renamed"
    if kinds <= {"delete"}:
        return "Deleted"
    return "Changes applied"


def operation_headline(verb: str, status: str) -> tuple[str, bool]:
    """`(headline, ok)` for a day-two operation whose deployment ended `status`."""
    if verb == "cancel":
        if status == "cancelled":
            return "Deployment cancelled", True
        return f"Cancel failed: the deployment ended {status}", False
    # A redeploy is a deployment: the skill's own headline says it.
    noun = {"redeploy": "Deployment", "rollback": "Rollback"}.get(verb, verb.capitalize())
    if status == "success":
        return f"{noun} successful", True
    return f"{noun} failed" + ("" if status == "failed" else f" (ended {status})"), False


def bare_report(
    prepared: Prepared, result: ApplyResult | None, gateway: str, log_file: str
) -> DeployReport:
    """The report without a final read of live state (it failed): statuses stay unknown."""
    assert prepared.resolution is not None and prepared.resolution.desired is not None
    desired = prepared.resolution.desired
    project = prepared.observed.project if prepared.observed is not None else None
    return DeployReport(
        project_name=desired.project,
        project_id=project.id if project is not None else "",
        environment=desired.environment,
        gateway=gateway,
        services=[ServiceOutcome(name, "unknown") for name in sorted(desired.services)],
        log_file=log_file,
        failed_actions=failed_actions(result),
    )


async def read_final_report(
    client: GatewayClient,
    prepared: Prepared,
    result: ApplyResult | None,
    *,
    bind_url: str,
    log_file: str,
) -> DeployReport:
    """Every managed service's latest deployment and live URL, read back from the gateway.

    `bind_url` is the unbound guest's binding URL ("" otherwise). Raises `GatewayError` when
    the read fails; `bare_report` is the fallback.
    """
    import os

    from opendeploy_plan.engine.local_gateway import localize_report
    from opendeploy_plan.state.hints import refresh_with_hints

    assert prepared.resolution is not None and prepared.resolution.desired is not None
    desired = prepared.resolution.desired
    # Through the hint file like every reader, so no database shows as `dependency.<id>`.
    observed = await refresh_with_hints(
        client,
        prepared.load.manifest_dir,
        desired.project,
        desired.environment,
        wanted=tuple(desired.dependencies),
    )
    services = []
    for name in sorted(desired.services):
        live = observed.services.get(name)
        latest = live.latest_deployment() if live else None
        url = f"https://{live.domain.domain}" if live and live.domain else ""
        services.append(
            ServiceOutcome(
                name=name,
                status=latest.status if latest else "not deployed",
                deployment_id=latest.id if latest else "",
                url=url,
            )
        )
    report = DeployReport(
        project_name=desired.project,
        project_id=observed.project.id if observed.project else "",
        environment=desired.environment,
        gateway=client.base_url,
        services=services,
        bind_url=bind_url,
        log_file=log_file,
        failed_actions=failed_actions(result),
    )
    # The local gateway's links answer on this machine, or are marked as simulated.
    return localize_report(report, os.environ)
