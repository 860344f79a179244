"""The post-deploy report, in the skill's canonical layout (deploy.md Step 9).

Branch A (a guest credential not linked to an account) prints the account-binding URL with the
6-hour notice; Branch B (dashboard token or bound credential) prints the dashboard project URL.
Same Markdown in both, so users of the skill see what they are used to. `as_dict` gives `--json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from opendeploy_plan.platform import dashboard_host


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

    @property
    def is_bound(self) -> bool:
        return not self.bind_url

    @property
    def succeeded(self) -> bool:
        return (
            bool(self.services)
            and all(s.status == "success" for s in self.services)
            and not self.failed_actions
        )

    @property
    def project_url(self) -> str:
        return f"{dashboard_host(self.gateway)}/projects/{self.project_id}"

    def bind_url_with_app(self) -> str:
        """The binding URL with `url=<first live URL>` appended, as the skill prints it."""
        first = next((s.url for s in self.services if s.url), "")
        if not self.bind_url or not first:
            return self.bind_url
        separator = "&" if "?" in self.bind_url else "?"
        return f"{self.bind_url}{separator}url={quote(first, safe='')}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "success" if self.succeeded else "failed",
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


def render_markdown(report: DeployReport) -> str:
    """The canonical Markdown block: headings, bold labels, backticked identifiers, no emoji."""
    heading = "## Deployment successful" if report.succeeded else "## Deployment failed"
    lines = [heading, ""]
    live = [s for s in report.services if s.url]
    if len(report.services) == 1 and live:
        lines.append(f"**Live URL:** {live[0].url}")
    elif live:
        lines.append("**Live URLs:**")
        lines.extend(f"- `{s.name}`: {s.url}" for s in live)
    if report.is_bound:
        lines += ["", f"**Dashboard:** {report.project_url}"]
    else:
        lines += [
            "",
            "### Bind this deployment",
            "",
            "Open the link below in your browser and sign in via SSO to bind this",
            "deployment to your opendeploy account. The token in `~/.opendeploy/auth.json`",
            "keeps working afterwards — redeploys from this machine won't prompt again.",
            "The deployment is garbage-collected after **6 hours** if you don't bind it.",
            "",
            f"**Bind URL:** {report.bind_url_with_app()}",
        ]
    lines += ["", "---", "", f"- **Project:** `{report.project_name}`"]
    if len(report.services) == 1:
        only = report.services[0]
        lines.append(f"- **Service:** `{only.name}`")
    else:
        names = ", ".join(f"`{s.name}`" for s in report.services)
        lines.append(f"- **Services:** {names}")
    lines.append(f"- **Environment:** `{report.environment}`")
    if len(report.services) == 1:
        lines.append(f"- **Status:** `{report.services[0].status}`")
    else:
        lines.append(
            "- **Status:** " + ", ".join(f"`{s.name}` `{s.status}`" for s in report.services)
        )
    lines.append(f"- **Project ID:** `{report.project_id}`")
    if len(report.services) == 1:
        lines.append(f"- **Deployment ID:** `{report.services[0].deployment_id}`")
    else:
        lines.append(
            "- **Deployment IDs:** "
            + ", ".join(f"`{s.name}` `{s.deployment_id}`" for s in report.services)
        )
    if report.log_file:
        lines.append(f"- **Log file:** `{report.log_file}`")
    return "\n".join(lines) + "\n"
