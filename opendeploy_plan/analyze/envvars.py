"""Environment variables a service reads: example env files, per-language source grep, and the
build-time/runtime and secret/plain split. Real `.env` files are read for key names only."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from dotenv import dotenv_values

from opendeploy_plan.analyze.model import EnvVar
from opendeploy_plan.analyze.repo import RepoView, join
from opendeploy_plan.analyze.signals import MAX_SCANNED_FILE_BYTES, code_files

EXAMPLE_ENV_FILES: Final = (".env.example", ".env.sample", ".env.template", ".env.dist")
BUILD_TIME_PREFIXES: Final = (
    "NEXT_PUBLIC_",
    "VITE_",
    "REACT_APP_",
    "PUBLIC_",
    "NUXT_PUBLIC_",
    "EXPO_PUBLIC_",
)
# Set by the platform or the runtime itself; listing them would only invite wrong overrides.
PLATFORM_MANAGED: Final = frozenset(
    {
        "PORT",
        "HOST",
        "HOSTNAME",
        "NODE_ENV",
        "PATH",
        "HOME",
        "PWD",
        "USER",
        "SHELL",
        "TERM",
        "LANG",
        "TZ",
        "CI",
        "PYTHONPATH",
        "PYTHONUNBUFFERED",
        "VIRTUAL_ENV",
        "GOPATH",
        "JAVA_HOME",
        "RAILS_ENV",
        "RACK_ENV",
        "MIX_ENV",
        "APP_ENV",
        "ASPNETCORE_URLS",
        "ASPNETCORE_ENVIRONMENT",
        "DOTNET_ENVIRONMENT",
        "K_SERVICE",
        "npm_package_version",
    }
)
_SECRET_RE: Final = re.compile(
    r"(SECRET|PASSWORD|PASSWD|PASS$|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|_KEY$|^KEY$|_DSN$|"
    r"AUTH|SALT|SIGNING|WEBHOOK|ACCESS_KEY|CLIENT_ID$|SESSION)"
)
_NAME: Final = r"([A-Za-z_][A-Za-z0-9_]*)"
_Q: Final = r"['\"]"
# (pattern, strict) per language: group 1 is the name, a non-empty group 2 marks a fallback
# in code. `strict` accesses fail when the variable is missing (`os.environ["X"]`,
# `ENV.fetch("X")`); only those, or an example file listing it without a value, make a
# variable required (analyze-local.md: "when unsure, required: false").
_GREP_PATTERNS: Final[dict[str, tuple[tuple[re.Pattern[str], bool], ...]]] = {
    "js": (
        (re.compile(rf"process\.env\.{_NAME}(\s*(?:\|\||\?\?))?"), False),
        (re.compile(rf"process\.env\[{_Q}{_NAME}{_Q}\](\s*(?:\|\||\?\?))?"), False),
        (re.compile(rf"import\.meta\.env\.{_NAME}(\s*(?:\|\||\?\?))?"), False),
        (re.compile(rf"Deno\.env\.get\({_Q}{_NAME}{_Q}\)(\s*(?:\|\||\?\?))?"), False),
        (re.compile(rf"Bun\.env\.{_NAME}(\s*(?:\|\||\?\?))?"), False),
    ),
    "python": (
        (re.compile(rf"os\.getenv\(\s*{_Q}{_NAME}{_Q}(\s*,)?"), False),
        (re.compile(rf"os\.environ\[\s*{_Q}{_NAME}{_Q}\s*\]()"), True),
        (re.compile(rf"os\.environ\.get\(\s*{_Q}{_NAME}{_Q}(\s*,)?"), False),
        (re.compile(rf"\benv(?:\.\w+)?\(\s*{_Q}{_NAME}{_Q}(\s*,\s*default)?"), False),
    ),
    "go": (
        (re.compile(rf"os\.Getenv\(\s*\"{_NAME}\"\s*\)()"), False),
        (re.compile(rf"os\.LookupEnv\(\s*\"{_NAME}\"\s*\)()"), False),
    ),
    "rust": (
        (re.compile(rf"(?:std::)?env::var\(\s*\"{_NAME}\"\s*\)(\s*\.unwrap_or)?"), False),
        (re.compile(rf"env!\(\s*\"{_NAME}\"\s*\)()"), True),
    ),
    "ruby": (
        (re.compile(rf"ENV\[\s*{_Q}{_NAME}{_Q}\s*\](\s*\|\|)?"), False),
        (re.compile(rf"ENV\.fetch\(\s*{_Q}{_NAME}{_Q}(\s*(?:,|\)\s*\{{))?"), True),
    ),
    "php": (
        (re.compile(rf"getenv\(\s*{_Q}{_NAME}{_Q}\s*\)(\s*\?:)?"), False),
        (re.compile(rf"\$_ENV\[\s*{_Q}{_NAME}{_Q}\s*\](\s*\?\?)?"), False),
        (re.compile(rf"\benv\(\s*{_Q}{_NAME}{_Q}(\s*,)?"), False),
    ),
    "jvm": (
        (re.compile(rf"System\.getenv\(\s*\"{_NAME}\"\s*\)()"), False),
        (re.compile(rf"\$\{{{_NAME}(:)?"), True),
    ),
    "dotnet": (
        (
            re.compile(rf"Environment\.GetEnvironmentVariable\(\s*\"{_NAME}\"\s*\)(\s*\?\?)?"),
            False,
        ),
    ),
    "elixir": (
        (re.compile(rf"System\.get_env\(\s*\"{_NAME}\"(\s*,|\)\s*\|\|)?"), False),
        (re.compile(rf"System\.fetch_env!\(\s*\"{_NAME}\"\s*\)()"), True),
    ),
    "shell": ((re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(:-)?"), False),),
}
_SUFFIXES: Final[dict[str, tuple[str, ...]]] = {
    "js": (".js", ".mjs", ".cjs", ".ts", ".mts", ".jsx", ".tsx", ".vue", ".svelte", ".astro"),
    "python": (".py",),
    "go": (".go",),
    "rust": (".rs",),
    "ruby": (".rb", ".erb"),
    "php": (".php",),
    "jvm": (".java", ".kt", ".properties", ".yml", ".yaml"),
    "dotnet": (".cs", ".fs"),
    "elixir": (".ex", ".exs"),
}
_SHELL_ENTRYPOINTS: Final = ("entrypoint.sh", "docker-entrypoint.sh", "start.sh", "run.sh")
_LANGUAGE_GREP: Final[dict[str, str]] = {
    "javascript": "js",
    "typescript": "js",
    "deno": "js",
    "python": "python",
    "go": "go",
    "rust": "rust",
    "ruby": "ruby",
    "php": "php",
    "java": "jvm",
    "kotlin": "jvm",
    "csharp": "dotnet",
    "fsharp": "dotnet",
    "elixir": "elixir",
}


@dataclass
class _Seen:
    sources: list[str] = field(default_factory=list)
    default: str | None = None
    has_fallback: bool = False
    from_example: bool = False
    strict: bool = False
    build_arg: bool = False


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_RE.search(name.upper()))


def is_build_time(name: str) -> bool:
    return name.startswith(BUILD_TIME_PREFIXES)


def parse_env_lines(text: str) -> list[tuple[str, str]]:
    """`KEY=VALUE` pairs of a dotenv file, read by python-dotenv: the same parser `plan` uses
    (quotes, inline comments, `export` and quoted multi-line values), so init and plan never
    disagree on which keys a file holds. Keys without `=` are skipped."""
    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return [
        (key, value)
        for key, value in values.items()
        if value is not None and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", key)
    ]


def real_env_key_names(view: RepoView, folder: str, environment: str | None) -> dict[str, str]:
    """Key names (never values) of the real env files the deploy would read, name -> file."""
    names = [".env", ".env.local"]
    if environment:
        names += [f".env.{environment}", f".env.{environment}.local"]
    keys: dict[str, str] = {}
    for name in names:
        rel = join(folder, name)
        text = view.read(rel)
        if text is None:
            continue
        for key, _value in parse_env_lines(text):
            keys.setdefault(key, rel)
    return keys


def collect_env(
    view: RepoView,
    folder: str,
    language: str | None,
    *,
    dockerfile_args: dict[str, str | None],
    dockerfile: str | None,
    compose_environment: dict[str, str | None],
    compose_file: str | None,
    real_env_keys: dict[str, str],
    build_script: str | None,
) -> list[EnvVar]:
    """Every variable the service reads, with a default only from example files or compose."""
    seen: dict[str, _Seen] = {}

    def note(name: str, source: str) -> _Seen:
        entry = seen.setdefault(name, _Seen())
        if source not in entry.sources:
            entry.sources.append(source)
        return entry

    for example in EXAMPLE_ENV_FILES:
        rel = join(folder, example)
        text = view.read(rel)
        if text is None:
            continue
        for key, value in parse_env_lines(text):
            entry = note(key, rel)
            entry.from_example = True
            if value and entry.default is None:
                entry.default = value
    grep_kind = _LANGUAGE_GREP.get(language or "")
    kinds = [grep_kind] if grep_kind else []
    for kind in kinds:
        for rel in code_files(view, folder, _SUFFIXES[kind]):
            _grep_file(view, rel, _GREP_PATTERNS[kind], note)
    for name in _SHELL_ENTRYPOINTS:
        rel = join(folder, name)
        if view.exists(rel):
            _grep_file(view, rel, _GREP_PATTERNS["shell"], note)
    for arg, arg_default in dockerfile_args.items():
        entry = note(arg, dockerfile or "Dockerfile")
        entry.build_arg = True
        if arg_default is not None and entry.default is None:
            entry.default = arg_default
    if build_script:
        for name in re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", build_script):
            note(name, "package.json scripts.build").build_arg = True
    for key, compose_value in compose_environment.items():
        entry = note(key, compose_file or "docker-compose.yml")
        if compose_value is not None and entry.default is None and "${" not in compose_value:
            entry.default = compose_value
    for key, rel in real_env_keys.items():
        note(key, f"{rel} (name only)")
    result: list[EnvVar] = []
    for name in sorted(seen):
        if name in PLATFORM_MANAGED:
            continue
        entry = seen[name]
        required = (
            entry.default is None
            and not entry.has_fallback
            and (entry.strict or entry.from_example)
        )
        result.append(
            EnvVar(
                name=name,
                build_time=is_build_time(name) or entry.build_arg,
                required=required,
                default=entry.default,
                sources=tuple(entry.sources),
                secret=is_secret_name(name),
                fallback_in_code=entry.has_fallback,
            )
        )
    return result


def _grep_file(
    view: RepoView,
    rel: str,
    patterns: tuple[tuple[re.Pattern[str], bool], ...],
    note: Callable[[str, str], _Seen],
) -> None:
    text = view.read(rel, MAX_SCANNED_FILE_BYTES)
    if text is None:
        return
    for pattern, strict in patterns:
        for match in pattern.finditer(text):
            name = match.group(1)
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
                continue
            line = text.count("\n", 0, match.start()) + 1
            entry = note(name, f"{rel}:{line}")
            if match.lastindex and match.lastindex >= 2 and match.group(2):
                entry.has_fallback = True
            elif strict:
                entry.strict = True
