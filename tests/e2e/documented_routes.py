"""The gateway routes the seed's documents name, in the exact URL form they use, each with the
file and phrase that documents it; and the routes odplan may call that the documents do not
name (each has a row in docs/emulator.md saying what odplan does when a gateway lacks it).

`tests/e2e/test_documented_routes.py` checks every phrase against the documents (so this list
cannot drift from them) and every request of a full apply against this list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The seed's skill (the API contract). The repository keeps no copy: the check of the phrases
# below skips where it is absent; the check of apply's requests against this list never does.
SKILL = Path("/work/shared/seed/opendeploy-skill")


@dataclass(frozen=True)
class Route:
    """`METHOD template` (under the gateway's `/api` base; `:x` is one path segment), and where
    the documents name it: `file` (relative to the skill) holds `phrase` verbatim."""

    method: str
    template: str
    file: str
    phrase: str

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (`path` under `/api`, without its query) is this route, in this
        exact form (a trailing slash is part of the form)."""
        if method != self.method:
            return False
        pattern = "".join(
            "[^/]+" if part.startswith(":") else re.escape(part)
            for part in re.split(r"(:[a-z_]+)", self.template)
        )
        return re.fullmatch(pattern, path) is not None


API = "references/api-schemas.md"
PLAYBOOK = "references/failure-playbook.md"
OPERATE = "references/operate.md"

DOCUMENTED = (
    Route("GET", "/v1/regions/", PLAYBOOK, "Use `GET /v1/regions/` for auth sanity"),
    Route("GET", "/v1/profile", API, "### GET `/v1/profile`"),
    Route("GET", "/v1/billing/quota", PLAYBOOK, "`GET /v1/billing/quota`"),
    Route("POST", "/v1/client-guests/register", API, "POST `/v1/client-guests/register`"),
    Route("GET", "/v1/client-guests/:id/status", API, "`GET /v1/client-guests/:guest_id/status"),
    Route("POST", "/v1/client-guests/:id/bind", API, "`POST /v1/client-guests/:guest_id/bind`"),
    Route("GET", "/v1/client-guests", API, "`GET /v1/client-guests`"),
    Route("PATCH", "/v1/client-guests/:id", API, "`PATCH /v1/client-guests/:guest_id`"),
    Route("DELETE", "/v1/client-guests/:id", API, "`DELETE /v1/client-guests/:guest_id`"),
    Route("GET", "/v1/projects/", "SKILL.md", '"$OD_GATEWAY/v1/projects/" # list projects'),
    Route("POST", "/v1/projects/", "references/setup.md", '-X POST "$OD_GATEWAY/v1/projects/"'),
    Route("GET", "/v1/projects/:id", "SKILL.md", '"$OD_GATEWAY/v1/projects/$PID" # project detail'),
    Route("DELETE", "/v1/projects/:id", OPERATE, "Project deletion (`DELETE /v1/projects/:id`)"),
    Route(
        "GET",
        "/v1/projects/:id/services/",
        "SKILL.md",
        '"$OD_GATEWAY/v1/projects/$PID/services/" # list services',
    ),
    Route(
        "POST",
        "/v1/projects/:id/services/",
        "references/setup.md",
        "Create each service → `POST /projects/:id/services/`",
    ),
    Route("GET", "/v1/services/:id", API, "follow up with `GET /v1/services/<service_id>`"),
    Route("PUT", "/v1/services/:id", OPERATE, "`PUT /v1/services/$SID` with K8s strings"),
    Route(
        "GET",
        "/v1/projects/:id/services/:sid/env",
        API,
        "first `GET /projects/:id/services/:sid/env`",
    ),
    Route(
        "PUT",
        "/v1/projects/:id/services/:sid/env",
        OPERATE,
        "`PUT /v1/projects/$PID/services/$SID/env`",
    ),
    Route(
        "GET",
        "/v1/projects/:id/services/:sid/logs",
        PLAYBOOK,
        "`GET /v1/projects/:id/services/:sid/logs`",
    ),
    Route(
        "GET",
        "/v1/projects/:id/deployments",
        OPERATE,
        "`GET /v1/projects/$PID/deployments?status=success`",
    ),
    Route("POST", "/v1/dependencies/create", API, "POST `/v1/dependencies/create`"),
    Route("GET", "/v1/dependencies/status/:id", API, "GET `/v1/dependencies/status/:project_id`"),
    Route("DELETE", "/v1/dependencies/:id/:did", PLAYBOOK, "`DELETE /dependencies/:pid/:did`"),
    Route("POST", "/v1/upload/upload-only", API, "POST `/v1/upload/upload-only`"),
    Route("POST", "/v1/upload/update-source", API, "POST `/v1/upload/update-source`"),
    Route("POST", "/v1/deployments/", OPERATE, "`POST /v1/deployments/` with the existing"),
    Route("GET", "/v1/deployments/", API, "`GET /v1/deployments/?project_id=<pid>`"),
    Route("GET", "/v1/deployments/:id", API, "#### GET `/v1/deployments/:id`"),
    Route("GET", "/v1/deployments/:id/logs", PLAYBOOK, "`GET /v1/deployments/:id/logs?tail=N`"),
    Route("GET", "/v1/deployments/:id/logs/stream", API, "GET `/v1/deployments/:id/logs/stream`"),
    Route(
        "GET",
        "/v1/deployments/:id/build-logs/stream",
        API,
        "GET `/v1/deployments/:id/build-logs/stream` (WebSocket)",
    ),
    Route("POST", "/v1/deployments/:id/cancel", OPERATE, "`POST /v1/deployments/$DID/cancel`"),
    Route("POST", "/v1/deployments/:id/rollback", OPERATE, "`POST /v1/deployments/$DID/rollback`"),
    Route("GET", "/v1/service-domains", API, "GET `/v1/service-domains?service_id=<uuid>`"),
    Route(
        "GET",
        "/v1/service-domains/check-subdomain/:name",
        API,
        "GET `/v1/service-domains/check-subdomain/:subdomain`",
    ),
    Route(
        "PUT", "/v1/service-domains/:id/subdomain", API, "PUT `/v1/service-domains/:id/subdomain`"
    ),
    Route("POST", "/v1/service-domains/:id/retry", API, "POST `/v1/service-domains/:id/retry`"),
)

# Routes odplan may call that no document names: `(method, template)` → the first cell of
# their row in docs/emulator.md's profile table (which says what odplan does without them).
UNDOCUMENTED = {
    ("DELETE", "/v1/services/:id"): "`DELETE /v1/services/:id`",
    ("POST", "/v1/service-domains/"): "`POST /v1/service-domains/` (custom domain)",
}


def undocumented_route(method: str, template: str) -> Route:
    return Route(method, template, "docs/emulator.md", UNDOCUMENTED[(method, template)])
