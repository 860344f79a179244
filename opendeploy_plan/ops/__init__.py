"""Day-two operations: adopt a live project into a manifest, status, logs, redeploy, rollback,
cancel. Pure decisions live in `adopt` and `deployments`; the gateway calls sit beside them."""

from __future__ import annotations

# Import the module a caller needs (`ops.live`, `ops.deployments`, …): each pulls in only its
# own dependencies, so the CLI stays quick to start.
__all__: list[str] = []
