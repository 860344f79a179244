"""What can go wrong while applying, each with a hint the user can act on."""

from __future__ import annotations

from typing import ClassVar, Literal

from opendeploy_plan.errors import OdplanError

# What asked for a service delete: the way out differs (see ServiceDeleteUnsupported).
DeleteCause = Literal["replace", "prune", "destroy"]


class ApplyError(OdplanError):
    """An action failed; `hint` says what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ReadBackMismatch(ApplyError):
    """The gateway accepted a change but reading it back shows something else."""

    def __init__(self, address: str, field: str, expected: str, actual: str) -> None:
        super().__init__(
            f"inconsistent result after apply: {address} {field} is {actual}, expected {expected}",
            "The gateway accepted the change but did not keep it. Run `odplan plan` to see the "
            "live state; if it persists, report it with the audit log.",
        )
        self.address = address
        self.field = field
        self.actual = actual


class ServiceDeleteUnsupported(ApplyError):
    """`DELETE /v1/services/:id` answered 404 while the service still exists: the gateway does
    not expose the route (it is not in the platform's documents). `why` is what asked for the
    delete: the way out differs for a replacement, a prune and a destroy."""

    _NEXT: ClassVar[dict[str, str]] = {
        "replace": (
            "Delete service {s} by hand in the dashboard, then run `odplan apply` again to "
            "create it anew; or undo the manifest change that forces the replacement."
        ),
        "prune": (
            "Delete service {s} by hand in the dashboard, or leave it out of the prune set "
            "(run without `--prune`, or with `--exclude service.{s}`)."
        ),
        "destroy": (
            "Delete service {s} by hand in the dashboard, then run `odplan destroy` again "
            "for what is left."
        ),
    }

    def __init__(self, service: str, *, why: DeleteCause) -> None:
        verb = "replace" if why == "replace" else "delete"
        super().__init__(
            f"cannot {verb} service {service}: the gateway does not support deleting a service "
            "through the API (DELETE /v1/services/:id answered 404 page not found)",
            self._NEXT[why].format(s=service),
        )
        self.service = service


class DeploymentFailed(ApplyError):
    """A deployment reached a terminal state other than success."""

    def __init__(
        self,
        service: str,
        deployment_id: str,
        status: str,
        message: str,
        log_tail: list[str],
        hint: str,
    ) -> None:
        # "failed: Build failed", not "ended failed: Build failed".
        ended = {"failed": "failed", "cancelled": "was cancelled"}.get(status, f"ended {status}")
        text = f"deployment {deployment_id} of {service} {ended}"
        if message:
            text += f": {message}"
        super().__init__(text, hint)
        self.service = service
        self.deployment_id = deployment_id
        self.status = status
        self.log_tail = log_tail


class DependencyFailed(ApplyError):
    """A database could not be provisioned."""


class SubdomainUnavailable(ApplyError):
    """The manifest's subdomain is reserved or taken; odplan never picks another by itself."""


class SourceChanged(ApplyError):
    """The files changed between planning and building the archive."""
