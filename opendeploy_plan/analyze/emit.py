"""Turn an Analysis into `opendeploy.yaml` text with comments, and into a JSON-ready dict.

The YAML is written by hand (not dumped) so every value can say which file it came from.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Final, Literal

from opendeploy_plan.analyze.dependencies import PROVIDED_KEYS
from opendeploy_plan.analyze.model import Analysis, EnvVar, Fact, ServiceAnalysis
from opendeploy_plan.analyze.uses import dependency_reference

SCHEMA_URL: Final = "https://opendeploy.dev/schemas/opendeploy.schema.json"
MANIFEST_FILENAME: Final = "opendeploy.yaml"
_PLAIN_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_./@+-]*$")
_YAML_WORDS: Final = frozenset(
    {"true", "false", "yes", "no", "on", "off", "null", "none", "y", "n", "~"}
)


def scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly `value` (a string)."""
    if _PLAIN_RE.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def _cite(fact: Fact) -> str:
    return f"{fact.file}: {fact.reason}"


def _comment(text: str) -> str:
    return " ".join(text.split()).replace("\n", " ")


def render_manifest(analysis: Analysis, *, environment: str | None = None) -> str:
    """The manifest text for an analysis without a refusal."""
    lines: list[str] = [
        f"# yaml-language-server: $schema={SCHEMA_URL}",
        "# Written by `odplan init`. Each value names the file it was detected from; review,",
        "# then run `odplan validate` and `odplan plan`. Real .env files were read for key",
        "# names only: their values stay out of this file and are resolved at plan time.",
        "version: 1",
        "",
        "project:",
        f"  name: {scalar(analysis.project_name)}",
    ]
    if environment:
        lines.append(f"environment: {scalar(environment)}")
    if analysis.dependencies:
        lines += ["", "dependencies:"]
        for dep in analysis.dependencies:
            lines.append(f"  {dep.name}:")
            lines.append(f"    type: {dep.type}  # {_comment(_cite(dep.evidence))}")
    lines += ["", "services:"]
    for index, service in enumerate(analysis.services):
        if index:
            lines.append("")
        lines += _service_lines(analysis, service)
    if analysis.notes:
        lines += ["", "# Notes from detection:"]
        lines += [f"# - {_comment(note)}" for note in analysis.notes]
    return "\n".join(lines) + "\n"


def _service_lines(analysis: Analysis, service: ServiceAnalysis) -> list[str]:
    out = [f"  {service.name}:"]
    out.append(f"    type: {service.kind}  # {_kind_reason(service)}")
    for item in service.confirm:
        out.append(f"    # TODO confirm {_comment(item)}")
    out.append(f"    source: {scalar(service.source)}")
    if service.language is not None and service.language.value != "unknown":
        out.append(f"    language: {scalar(service.language.value)}  # {_cite(service.language)}")
    else:
        reason = _cite(service.language) if service.language else "no build manifest recognised"
        out.append(f"    # language: unknown ({_comment(reason)})")
    if service.framework is not None and service.framework.value != "docker":
        out.append(
            f"    framework: {scalar(service.framework.value)}"
            f"  # {_comment(_cite(service.framework))}"
        )
    if service.package_manager is not None:
        out.append(
            f"    # package manager: {service.package_manager.value} "
            f"({_comment(_cite(service.package_manager))})"
        )
    if service.kind == "web":
        out += _port_lines(service)
    if service.build_command is not None:
        out.append(
            f"    build_command: {scalar(service.build_command.value)}"
            f"  # {_comment(_cite(service.build_command))}"
        )
    if service.start_command is not None:
        out.append(
            f"    # start command: {_comment(service.start_command.value)} "
            f"({_comment(_cite(service.start_command))})"
        )
    if service.dockerfile is not None:
        out.append(f"    dockerfile: {scalar(service.dockerfile)}")
    if service.health_check_path is not None:
        out.append(
            f"    health_check_path: {scalar(service.health_check_path.value)}"
            f"  # {_comment(_cite(service.health_check_path))}"
        )
    if service.after:
        out.append(f"    after: [{', '.join(service.after)}]")
    if service.uses:
        reasons = "; ".join(f"{name}: {why}" for name, why in service.uses_reasons.items())
        out.append(f"    uses: [{', '.join(service.uses)}]  # {_comment(reasons)}")
    out += _env_lines(analysis, service, build_time=False)
    out += _env_lines(analysis, service, build_time=True)
    for note in service.notes:
        out.append(f"    # note: {_comment(note)}")
    return out


def _kind_reason(service: ServiceAnalysis) -> str:
    if service.kind == "static":
        return "static files, no server process"
    if service.kind == "worker":
        return "background process, no port"
    return "serves HTTP"


def _port_lines(service: ServiceAnalysis) -> list[str]:
    if service.port is not None:
        level = service.port_confidence or "low"
        return [
            f"    port: {service.port.port}  # {_comment(service.port.file)}: "
            f"{_comment(service.port.reason)} ({level} confidence)"
        ]
    if service.port_ambiguous:
        seen = ", ".join(f"{c.port} ({c.file})" for c in service.port_ambiguous)
        return [f"    # port: TODO ambiguous, pick one of: {_comment(seen)}"]
    return ["    # port: TODO no port could be detected; set the port the service listens on"]


def _env_lines(analysis: Analysis, service: ServiceAnalysis, *, build_time: bool) -> list[str]:
    variables = [v for v in service.env if v.build_time == build_time]
    if not variables:
        return []
    key = "build_env" if build_time else "env"
    entries: list[str] = []
    comments: list[str] = []
    for var in variables:
        line = _env_entry(analysis, service, var)
        if line.startswith("#"):
            comments.append(f"      {line}")
        else:
            entries.append(f"      {line}")
    if entries:
        return [f"    {key}:", *entries, *comments]
    return [f"    # {key}:", *comments]


EnvTreatment = Literal[
    "provided", "dependency", "secret", "default", "env-file", "missing", "unset"
]


def env_treatment(analysis: Analysis, service: ServiceAnalysis, var: EnvVar) -> EnvTreatment:
    """How the manifest gives `var` a value; `missing` means a required variable has none."""
    if any(
        d.name in service.uses and var.name in PROVIDED_KEYS.get(d.type, ())
        for d in analysis.dependencies
    ):
        return "provided"
    if dependency_reference(var, service, analysis.dependencies) is not None:
        return "dependency"
    if var.secret:
        return "secret"
    if var.default is not None:
        return "default"
    if any("(name only)" in s for s in var.sources):
        return "env-file"
    return "missing" if var.required else "unset"


def _env_entry(analysis: Analysis, service: ServiceAnalysis, var: EnvVar) -> str:
    where = _comment(", ".join(var.sources[:3]))
    treatment = env_treatment(analysis, service, var)
    if treatment == "provided":
        dep = next(
            d.name
            for d in analysis.dependencies
            if d.name in service.uses and var.name in PROVIDED_KEYS.get(d.type, ())
        )
        return f"# {var.name}: provided by dependency {dep} via uses ({where})"
    if treatment == "dependency":
        reference = dependency_reference(var, service, analysis.dependencies)
        assert reference is not None
        dep, provided = reference
        return f'{var.name}: "${{{{ dependencies.{dep}.{provided} }}}}"  # {where}'
    if treatment == "secret":
        return f'{var.name}: "${{{{ secrets.{var.name} }}}}"  # secret-looking name; {where}'
    if treatment == "default" and var.default is not None:
        return f"{var.name}: {json.dumps(var.default, ensure_ascii=False)}  # default from {where}"
    if treatment == "env-file":
        return f'{var.name}: "${{{{ secrets.{var.name} }}}}"  # value stays in {where}'
    if treatment == "missing":
        return f'# {var.name}: ""  # TODO required, no value found ({where})'
    if var.fallback_in_code:
        return f"# {var.name}: optional, the code has a fallback ({where})"
    return f"# {var.name}: no value found; set one if it is needed ({where})"


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    """The analysis as plain JSON data (`odplan init --json`)."""
    data = dataclasses.asdict(analysis)
    for service, raw in zip(analysis.services, data["services"], strict=True):
        raw["type"] = raw.pop("kind")
        raw["confidence"] = service.confidence
        raw["has_entrypoint"] = service.has_entrypoint
        raw["port_status"] = (
            "n/a"
            if service.kind != "web"
            else "detected"
            if service.port is not None
            else "ambiguous"
            if service.port_ambiguous
            else "unknown"
        )
    return data
