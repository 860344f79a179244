"""The post-deploy report as Markdown, in the skill's canonical layout (deploy.md Step 9).

Branch A (a guest credential not linked to an account) prints the account-binding URL with the
6-hour notice; Branch B (dashboard token or bound credential) prints the dashboard project URL.
Same Markdown in both, so users of the skill see what they are used to. The report's content is
`engine.report.DeployReport` (its `as_dict` gives `--json`).
"""

from __future__ import annotations

from opendeploy_plan.engine.report import DeployReport

__all__ = ["render_markdown"]


def render_markdown(report: DeployReport) -> str:
    """The canonical Markdown block: headings, bold labels, backticked identifiers, no emoji."""
    lines = [f"## {report.title}", ""]
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
