"""Observed → manifest: turn a live project (as the gateway shows it) into an `opendeploy.yaml`.

Pure: no network, no files. The rule it is built around is that `odplan plan` against the
same live project, with the listed secrets exported, plans nothing. Variables a dependency
provides become `uses:` or `${{ dependencies.… }}` references; a value that does not look
secret, by its name and by its shape (`PORT: "8000"`, `LOG_LEVEL: info`), is written as a
literal; every other variable becomes a `${{ secrets.NAME }}` reference the user must supply.
When in doubt a value is a secret: a literal is written into a file meant to be committed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from opendeploy_plan import platform
from opendeploy_plan.errors import OdplanError
from opendeploy_plan.gateway import Dependency, Project, Service, ServiceDomain
from opendeploy_plan.manifest import Manifest, TemplateError, parse_template
from opendeploy_plan.state.refresh import dependency_key

# A value equal to a dependency's variable under another name is only taken for a reference
# when it is long enough to be a URL or a password, not a coincidence like "5432" or "true".
_CROSS_KEY_MIN_CHARS = 16


@dataclass(frozen=True)
class LiveService:
    """One live service with what refresh would read for it."""

    service: Service
    env: Mapping[str, str] = field(repr=False)
    domain: ServiceDomain | None = None


@dataclass(frozen=True)
class LiveProject:
    """A project as read for import: its services of one environment and its dependencies."""

    project: Project
    environment: str
    dependencies: Sequence[Dependency]
    services: Sequence[LiveService]
    region_code: str | None = None
    other_environment_services: Sequence[str] = ()


@dataclass(frozen=True)
class SecretNeed:
    """A secret the imported manifest refers to, where (`service.web.env.API_KEY`), and why
    its value was not written as a literal (`name`, `shape`)."""

    name: str
    places: tuple[str, ...]
    reason: str = "name"


@dataclass
class Adoption:
    """The imported manifest, the secrets it needs, and notes on what was left out or chosen."""

    manifest: Manifest
    secrets: list[SecretNeed]
    notes: list[str]
    # Where a live value was written as a literal (`service.web.env.PORT`), sorted.
    literals: list[str] = field(default_factory=list)


class AdoptError(OdplanError, ValueError):
    """The live project cannot be expressed as a valid manifest (message names the field)."""


def subdomain_of(domain: str, environment: str) -> str | None:
    """The auto-domain prefix of `domain` in `environment`, or None when it is not one."""
    bare = domain.split("://", 1)[-1].strip().rstrip("/").lower()
    base = platform.AUTO_DOMAIN_BASE.get(environment)
    if base is None or not bare.endswith("." + base):
        return None
    prefix = bare[: -len(base) - 1]
    if "." in prefix or platform.subdomain_problem(prefix) is not None:
        return None
    return prefix


def adopt(live: LiveProject) -> Adoption:
    """Build the manifest for `live`. Raises AdoptError when the result would not validate."""
    notes: list[str] = []
    project = live.project
    if not platform.is_dns_label(project.name):
        raise AdoptError(f"project name {project.name!r} is not a lowercase DNS label")
    project_data: dict[str, Any] = {"name": project.name}
    if live.region_code:
        project_data["region"] = live.region_code
    if project.description:
        project_data["description"] = project.description

    dependencies, dep_env = _dependencies(live.dependencies, notes)
    names = {ls.service.name for ls in live.services}
    secret_names = _secret_names(live.services)
    places: dict[str, list[str]] = {}
    reasons: dict[str, str] = {}
    literals: list[str] = []
    choice = _Choices(places, reasons, literals)
    services: dict[str, Any] = {}
    git = _git_source(project)
    for entry in sorted(live.services, key=lambda s: s.service.name):
        name = entry.service.name
        data = _service_settings(entry, live.environment, names, git, notes)
        uses, env = _env(name, entry.env, dep_env, secret_names, choice, "env", notes)
        _, build_env = _env(
            name, entry.service.build_variables, {}, secret_names, choice, "build", notes
        )
        if uses:
            data["uses"] = uses
        if env:
            data["env"] = env
        if build_env:
            data["build_env"] = build_env
        services[name] = data
    for other in sorted(live.other_environment_services):
        notes.append(
            f"service {other} lives in the other environment and was not imported "
            "(import it with -e into a second manifest)"
        )

    document = {
        "version": 1,
        "project": project_data,
        "environment": live.environment,
        "dependencies": dependencies,
        "services": services,
    }
    try:
        manifest = Manifest.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise AdoptError(f"the live project does not fit a manifest: {problems}") from None
    secrets = [SecretNeed(n, tuple(p), reasons.get(n, "name")) for n, p in sorted(places.items())]
    return Adoption(manifest, secrets, notes, sorted(literals))


@dataclass(frozen=True)
class _Choices:
    """Where `_env` records what it chose: secret places and reasons, literal places."""

    places: dict[str, list[str]]
    reasons: dict[str, str]
    literals: list[str]


def _dependencies(
    live: Sequence[Dependency], notes: list[str]
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Manifest dependencies by refresh key, and their env_vars (for matching service env)."""
    out: dict[str, Any] = {}
    env: dict[str, dict[str, str]] = {}
    for dep in live:
        key = dependency_key(dep)
        kind = dep.kind
        if kind not in platform.DEPENDENCY_TYPES:
            notes.append(f"dependency {key} has unsupported type {kind!r}; not imported")
            continue
        if not platform.is_dns_label(key):
            notes.append(
                f"dependency {key!r} has a display name that is not a lowercase DNS label, so "
                "the manifest cannot name it; not imported (its variables become secrets)"
            )
            continue
        if key in out:
            notes.append(f"two dependencies are called {key}; only the first is imported")
            continue
        data: dict[str, Any] = {"type": kind}
        template = str((dep.model_extra or {}).get("template_id") or "")
        if template and template != f"{kind}-default":
            data["template"] = template
        out[key] = data
        env[key] = dict(dep.env_vars)
    return out, env


def _git_source(project: Project) -> dict[str, Any] | None:
    url = project.repo_url
    if not url or url.startswith("file://"):
        return None
    source: dict[str, Any] = {"git": url}
    if project.branch:
        source["branch"] = project.branch
    return source


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    return None if value is None or value == "" else str(value)


def _service_settings(
    entry: LiveService,
    environment: str,
    names: set[str],
    git: dict[str, Any] | None,
    notes: list[str],
) -> dict[str, Any]:
    service = entry.service
    row: Mapping[str, Any] = service.model_dump()
    data: dict[str, Any] = {"type": service.type or "web"}
    source_path = (service.source_path or "").strip().strip("/")
    if git is not None:
        data["source"] = git
        if source_path not in ("", "."):
            notes.append(
                f"service {service.name} builds from {source_path!r} of a git source; odplan "
                "builds git sources from the repository root, so plan will show a change"
            )
    elif source_path not in ("", "."):
        data["source"] = source_path
    for key, manifest_key in (
        ("language", "language"),
        ("framework", "framework"),
        ("build_command", "build_command"),
        ("dockerfile_path", "dockerfile"),
        ("build_context", "build_context"),
        ("health_check_path", "health_check_path"),
        ("readiness_path", "readiness_path"),
    ):
        value = _text(row, key)
        if value is None:
            continue
        if key.endswith("_path") and key != "dockerfile_path" and not value.startswith("/"):
            notes.append(f"service {service.name}: {key} {value!r} is not a URL path; left out")
            continue
        data[manifest_key] = value
    if service.port is not None:
        data["port"] = service.port
    resources: dict[str, Any] = {}
    for kind in ("cpu", "memory"):
        pair = {
            part: value
            for part in ("request", "limit")
            if (value := _text(row, f"{kind}_{part}")) is not None
        }
        if pair:
            resources[kind] = pair
    if resources:
        data["resources"] = resources
    data["replicas"] = service.replicas if service.replicas and service.replicas >= 1 else 1
    for flag in ("auto_scaling", "internal_only"):
        if row.get(flag):
            data[flag] = True
    after = [str(s) for s in row.get("dependencies") or ()]
    kept = [s for s in after if s in names and s != service.name]
    for missing in sorted(set(after) - set(kept)):
        notes.append(f"service {service.name} lists {missing!r} as a sibling it needs; not found")
    if kept:
        data["after"] = kept
    if entry.domain is not None:
        prefix = subdomain_of(entry.domain.domain, environment)
        if prefix is None:
            notes.append(
                f"service {service.name}: auto domain {entry.domain.domain!r} has no usable "
                "prefix; subdomain left unmanaged"
            )
        else:
            data["subdomain"] = prefix
    return data


def _secret_names(services: Sequence[LiveService]) -> dict[tuple[str, str, str], str]:
    """The secret name for each (service, env|build, key): the key itself, unless two services
    hold different values under that key; then `<SERVICE>_<KEY>` (`<SERVICE>_BUILD_<KEY>` for a
    build variable) for each of them."""
    values: dict[str, set[str]] = {}
    for entry in services:
        for variables in (entry.env, entry.service.build_variables):
            for key, value in variables.items():
                values.setdefault(key, set()).add(value)
    names: dict[tuple[str, str, str], str] = {}
    for entry in services:
        name = entry.service.name
        for kind, variables in (("env", entry.env), ("build", entry.service.build_variables)):
            for key in variables:
                if len(values[key]) > 1:
                    middle = "_BUILD_" if kind == "build" else "_"
                    names[(name, kind, key)] = f"{name.upper().replace('-', '_')}{middle}{key}"
                else:
                    names[(name, kind, key)] = key
    return names


def _env(
    service: str,
    live: Mapping[str, str],
    dep_env: Mapping[str, Mapping[str, str]],
    secret_names: Mapping[tuple[str, str, str], str],
    choice: _Choices,
    kind: str,
    notes: list[str],
) -> tuple[list[str], dict[str, str]]:
    """`uses:` (dependencies whose every variable the service holds unchanged) and the env map
    of references and literals for the rest."""
    uses = [
        key
        for key, provided in dep_env.items()
        if provided and all(live.get(k) == v for k, v in provided.items())
    ]
    covered = {k for key in uses for k in dep_env[key]}
    env: dict[str, str] = {}
    prefix = "env" if kind == "env" else "build_env"
    for key in sorted(live):
        if key in covered:
            continue
        if not _valid_name(key):
            notes.append(f"service {service}: variable {key!r} is not a valid name; left out")
            continue
        if live[key] == "":
            env[key] = ""  # an empty value is no secret; keep it literal
            continue
        reference = _dependency_reference(key, live[key], dep_env)
        if reference is not None:
            env[key] = reference
            continue
        place = f"service.{service}.{prefix}.{key}"
        why = secret_reason(key, live[key])
        if why is None:
            env[key] = live[key]
            choice.literals.append(place)
            continue
        name = secret_names[(service, kind, key)]
        env[key] = "${{ secrets." + name + " }}"
        choice.places.setdefault(name, []).append(place)
        if choice.reasons.get(name) != "name":
            choice.reasons[name] = why
    return uses, env


# Value prefixes of well-known credentials (Stripe, GitHub, GitLab, Slack, AWS, Google, SendGrid,
# JWTs, PEM blocks).
_SECRET_PREFIXES = (
    "sk_",
    "pk_live",
    "rk_",
    "whsec_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xox",
    "AKIA",
    "ASIA",
    "AIza",
    "SG.",
    "eyJ",
    "-----BEGIN",
)
_WORDS_RE = re.compile(r"^[A-Za-z]+(?:[-_.][A-Za-z0-9]+)*$")
_LITERAL_MAX_CHARS = 200


def secret_reason(name: str, value: str) -> str | None:
    """Why `value` of variable `name` is kept out of the manifest (`name`: the name says
    secret; `shape`: the value looks like a credential), or None to write it as a literal.

    Biased towards secret: a literal ends up in a committed file, a needless secret only
    costs an `export`."""
    # Imported here: the analyzer is large, and `ops.live` (on every plan's start) imports
    # this module for its dataclasses only.
    from opendeploy_plan.analyze.envvars import is_secret_name

    if is_secret_name(name):
        return "name"
    if _looks_like_credential(value):
        return "shape"
    return None


def _looks_like_credential(value: str) -> bool:
    text = value.strip()
    if (
        len(value) > _LITERAL_MAX_CHARS
        or "${{" in value
        or any(ord(ch) < 32 for ch in value)
        or text.startswith(_SECRET_PREFIXES)
    ):
        return True
    if "://" in text:
        # A URL is plain unless it carries credentials (`user:pw@`) or a query (`?key=`).
        after_scheme = text.split("://", 1)[1]
        return "@" in after_scheme.split("/", 1)[0] or "?" in text
    if any(ch.isspace() for ch in text) or len(text) < 16:
        return False  # prose, numbers, short words: "info", "8000", "eu-west-1"
    # "my-app.production" and "gunicorn.conf.py" are words; a long run without spaces that
    # mixes cases and digits, hex or base64 is a key.
    return not (_WORDS_RE.match(text) and sum(ch.isdigit() for ch in text) * 4 < len(text))


def _dependency_reference(
    key: str, value: str, dep_env: Mapping[str, Mapping[str, str]]
) -> str | None:
    """`${{ dependencies.D.K }}` when a dependency provides exactly this value (same key name
    first; another name only for a long value)."""
    for dep, provided in dep_env.items():
        if provided.get(key) == value:
            return "${{ dependencies." + f"{dep}.{key}" + " }}"
    if len(value) < _CROSS_KEY_MIN_CHARS:
        return None
    for dep, provided in dep_env.items():
        for other, candidate in sorted(provided.items()):
            if candidate == value:
                return "${{ dependencies." + f"{dep}.{other}" + " }}"
    return None


def _valid_name(key: str) -> bool:
    """A variable name the manifest accepts (also as a secret name)."""
    if len(key) > platform.ENV_KEY_MAX_CHARS:
        return False
    try:
        parts = parse_template("${{ secrets." + key + " }}")
    except TemplateError:
        return False
    return len(parts) == 1
