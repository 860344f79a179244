"""The opendeploy platform's documented rules, in one place.

Everything here is copied from the platform's own client docs (the opendeploy skill,
`references/api-schemas.md` and `SKILL.md`): both the local gateway, which enforces these rules,
and the manifest validator, which reports them before any network call, read them from here.
Pure data and pure functions only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Final, Literal

DEFAULT_GATEWAY: Final = "https://dashboard.dev.opendeploy.dev/api"

Environment = Literal["production", "staging"]
ENVIRONMENTS: Final[tuple[Environment, ...]] = ("production", "staging")

ServiceType = Literal["web", "worker", "cron", "static"]
SERVICE_TYPES: Final[tuple[ServiceType, ...]] = ("web", "worker", "cron", "static")

DependencyType = Literal["postgres", "mysql", "mongodb", "redis", "clickhouse"]
DEPENDENCY_TYPES: Final[tuple[DependencyType, ...]] = (
    "postgres",
    "mysql",
    "mongodb",
    "redis",
    "clickhouse",
)

DEPLOYMENT_STATUSES: Final = (
    "pending",
    "analyzing",
    "pending_review",
    "building",
    "deploying",
    "success",
    "failed",
    "cancelled",
    "rolled_back",
)
TERMINAL_DEPLOYMENT_STATUSES: Final = frozenset({"success", "failed", "cancelled", "rolled_back"})

# api-schemas.md step 5: the env PUT's server limits.
ENV_KEY_MAX_CHARS: Final = 128
ENV_VALUE_MAX_BYTES: Final = 32 * 1024

# skill.json guest_tier and setup.md: caps for a guest credential not linked to an account.
GUEST_CPU_LIMIT_MILLICORES: Final = 1000
GUEST_MEMORY_LIMIT_BYTES: Final = 1024**3
GUEST_MAX_REPLICAS: Final = 1
GUEST_SERVICES_PER_PROJECT: Final = 1
GUEST_IDLE_GC_SECONDS: Final = 6 * 3600
# setup.md: "For unlinked local deploy credentials, send these explicitly" on service create.
GUEST_SERVICE_DEFAULTS: Final[Mapping[str, str | int]] = MappingProxyType(
    {
        "cpu_request": "500m",
        "cpu_limit": "1",
        "memory_request": "512Mi",
        "memory_limit": "1Gi",
        "replicas": 1,
    }
)

# api-schemas.md step 0: register is rate limited per source IP, replayed per (IP, UA) for 24 h.
REGISTER_LIMIT_PER_HOUR: Final = 5
REGISTER_REPLAY_SECONDS: Final = 24 * 3600

# api-schemas.md §8.1: subdomain prefixes the platform hard-blocks.
RESERVED_SUBDOMAINS: Final = frozenset(
    """
    www api admin dashboard console app apps mail ftp ssh vpn cdn static assets media images
    files docs blog shop store payment pay billing account login auth oauth sso security secure
    test staging dev development prod production demo preview beta minions system root ns1 ns2
    mx status health ingress registry monitor grafana
    """.split()
)
SUBDOMAIN_MIN_CHARS: Final = 2
SUBDOMAIN_MAX_CHARS: Final = 32
_SUBDOMAIN_RE: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

# Auto domains: `<prefix>.opendeploy.run` in production, `<prefix>.dev.opendeploy.run` in staging.
AUTO_DOMAIN_BASE: Final[dict[str, str]] = {
    "production": "opendeploy.run",
    "staging": "dev.opendeploy.run",
}

_DNS_LABEL_RE: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
DNS_LABEL_MAX_CHARS: Final = 63

# SKILL.md "Token shapes": `od_` + kind byte + 43 base62 characters.
TOKEN_BODY_CHARS: Final = 43
TOKEN_RE: Final = re.compile(r"^od_([ka])([0-9A-Za-z]{43})$")
DASHBOARD_TOKEN_KIND: Final = "k"
GUEST_TOKEN_KIND: Final = "a"

# SKILL.md refusal checklist: sources containing these are refused.
MINING_MARKERS: Final = (
    "xmrig",
    "ethminer",
    "cgminer",
    "t-rex",
    "gminer",
    "lolMiner",
    "stratum+tcp://",
)

# deploy.md step 4.a: env and credential files never leave the machine in a source archive.
SECRET_FILE_PATTERNS: Final = (
    ".env",
    ".env.*",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_ed25519*",
    "credentials.json",
    "service-account*.json",
    "*kubeconfig*",
)


def is_dns_label(name: str) -> bool:
    """True when `name` is a lowercase DNS label (1-63 chars, `[a-z0-9-]`, no edge hyphen)."""
    return bool(_DNS_LABEL_RE.match(name))


def subdomain_problem(prefix: str) -> str | None:
    """Why `prefix` cannot be an auto-domain prefix, or None when the platform would accept it.

    The reason distinguishes format errors from the reserved list, as the gateway does
    (400 for format, `available:false, reason:"reserved"` for the list).
    """
    if not SUBDOMAIN_MIN_CHARS <= len(prefix) <= SUBDOMAIN_MAX_CHARS:
        return f"must be {SUBDOMAIN_MIN_CHARS}-{SUBDOMAIN_MAX_CHARS} characters long"
    if not _SUBDOMAIN_RE.match(prefix):
        return "may contain only a-z, 0-9 and '-', and may not start or end with '-'"
    if prefix in RESERVED_SUBDOMAINS:
        return "is reserved by the platform"
    return None


def auto_domain(prefix: str, environment: str) -> str:
    """The full auto-domain name for a prefix in an environment."""
    return f"{prefix}.{AUTO_DOMAIN_BASE[environment]}"


def token_kind(token: str) -> str | None:
    """`"k"` (dashboard), `"a"` (guest) or None when `token` is not a well-formed od_ token."""
    match = TOKEN_RE.match(token)
    return match.group(1) if match else None


def dashboard_host(gateway: str) -> str:
    """The dashboard host is the gateway URL without its trailing `/api`."""
    return gateway.rstrip("/").removesuffix("/api")


def bind_url(gateway: str, guest_id: str, bind_sig: str) -> str:
    """The account-binding URL, always derived locally (never taken from a server field)."""
    return f"{dashboard_host(gateway)}/guest/{guest_id}?h={bind_sig}"


_QUANTITY_RE: Final = re.compile(r"^([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)([a-zA-Z]*)$")
_BINARY_SUFFIXES: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL_SUFFIXES: Final = {"": 0, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def parse_quantity(text: str) -> Decimal:
    """Parse a Kubernetes resource quantity (`500m`, `1`, `1.5`, `512Mi`, `1Gi`, `1G`).

    Raises ValueError with a short reason on anything else.
    """
    match = _QUANTITY_RE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 500m, 1, 512Mi, 1Gi)")
    number_text, suffix = match.groups()
    try:
        number = Decimal(number_text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guarantees a number
        raise ValueError(f"{text!r} is not a number") from exc
    if suffix == "m":
        return number / 1000
    if suffix in _BINARY_SUFFIXES:
        return number * (Decimal(1024) ** _BINARY_SUFFIXES[suffix])
    if suffix in _DECIMAL_SUFFIXES:
        return number * (Decimal(1000) ** _DECIMAL_SUFFIXES[suffix])
    raise ValueError(f"{text!r} has an unknown unit {suffix!r} (use m, Ki, Mi, Gi, k, M, G)")


def cpu_millicores(text: str) -> int:
    """CPU quantity in millicores: `500m` -> 500, `1` -> 1000, `1.5` -> 1500."""
    return int(parse_quantity(text) * 1000)


def memory_bytes(text: str) -> int:
    """Memory quantity in bytes: `512Mi` -> 536870912, `1Gi` -> 1073741824."""
    return int(parse_quantity(text))
