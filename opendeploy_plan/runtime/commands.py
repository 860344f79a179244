"""Start and build commands adapted to run natively on this machine, where the runtime has
built the environment itself and given the release its own port.

Three adaptations, each logged by the builder where it changes a command: `poetry run X`-style
wrappers dropped (the runtime's virtualenv is first on PATH); `pnpm`/`yarn` script calls run
through npm when that tool is missing; and servers that never read `PORT` given the argument
that binds it. What a command *is* comes from `opendeploy_plan.analyze`; nothing here detects.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final

from opendeploy_plan.analyze.ecosystems.node import run_script
from opendeploy_plan.analyze.signals import ports_in_command

__all__ = ["as_npm", "bound_to_port", "package_scripts", "without_runner"]

# `poetry run X`, `uv run X`, `pipenv run X`, `pdm run X` (how analyze writes a start command
# for those managers) run X inside the tool's environment. The runtime builds that environment
# itself and puts it first on PATH, so X alone is the same command, and it also works where
# the tool is not installed (`uv run` would even build a second environment of its own).
_PY_RUNNER: Final = re.compile(r"(^|&&\s*|;\s*)(?:poetry|uv|pipenv|pdm)\s+run\s+(?=\S)")
# `pnpm start`, `pnpm run build`, `pnpm build`, `yarn build`, `yarn run build` (+ arguments).
_TOOL_CALL: Final = re.compile(
    r"^(?P<tool>pnpm|yarn)(?=\s|$)(?:\s+(?P<run>run|exec))?(?:\s+(?P<name>[\w:.@/][\w:.@/-]*))?(?P<args>.*)$"
)
# pnpm's and yarn's own installs: the builder has installed the dependencies already.
_INSTALL_VERBS: Final = frozenset({"install", "i"})


# Servers that bind a fixed default port and never read PORT, with the argument that makes
# them bind it (gunicorn, Next.js, Express apps read PORT themselves). The local runtime
# gives each release its own port, so a command that names no port gets this appended.
_PORT_ARGUMENT: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\buvicorn\b"), "--port $PORT"),
    (re.compile(r"\bhypercorn\b"), "--bind 127.0.0.1:$PORT"),
    (re.compile(r"\bdaphne\b"), "-p $PORT"),
    (re.compile(r"\bwaitress-serve\b"), "--port=$PORT"),
    (re.compile(r"\bflask\b.*\brun\b"), "--port $PORT"),
    (re.compile(r"\bstreamlit\s+run\b"), "--server.port $PORT"),
    (re.compile(r"\bmanage\.py\s+runserver\b"), "127.0.0.1:$PORT"),
    (re.compile(r"\bhttp\.server\b"), "$PORT"),
)


def bound_to_port(command: str) -> tuple[str, str | None]:
    """(`command` with the argument that binds $PORT, a note) for a server in `_PORT_ARGUMENT`
    whose single, simple command names no port; else (`command`, None)."""
    if not command or re.search(r"&&|\|\||[;|`]|\$\(", command):
        return command, None
    if ports_in_command(command) or re.search(r"\$\{?PORT\b", command):
        return command, None
    if re.search(r"\bhttp\.server\s+\d", command):
        return command, None
    for pattern, argument in _PORT_ARGUMENT:
        if (match := pattern.search(command)) is not None:
            note = (
                f"the start command names no port and `{match.group(0)}` does not read PORT: "
                f"running it with `{argument}`"
            )
            return f"{command} {argument}", note
    return command, None


def without_runner(command: str) -> str:
    """`poetry run gunicorn app:app` -> `gunicorn app:app` (see `_PY_RUNNER`)."""
    return _PY_RUNNER.sub(lambda m: m.group(1), command)


def package_scripts(app_dir: Path) -> set[str]:
    try:
        scripts = json.loads((app_dir / "package.json").read_text()).get("scripts")
    except (OSError, ValueError, AttributeError):
        return set()
    return {str(name) for name in scripts} if isinstance(scripts, dict) else set()


def _only_flags(args: str) -> bool:
    return all(word.startswith("-") for word in args.split())


def as_npm(command: str, tool: str, scripts: set[str]) -> str:
    """A `tool` (pnpm or yarn) invocation as it runs without that tool, segment by segment of
    a `&&` chain: a package script through npm (which takes the script's own arguments after
    `--`), a package binary directly (node_modules/.bin is on PATH), its install dropped (the
    builder installed with npm). Anything else is kept as written."""
    segments = []
    for segment in re.split(r"\s*&&\s*", command.strip()):
        match = _TOOL_CALL.match(segment)
        name = match["name"] if match else None
        if match is None or match["tool"] != tool:
            segments.append(segment)
        elif name is None and not _only_flags(match["args"]):
            segments.append(segment)  # `pnpm --filter web build`: not ours to rewrite
        elif name is None or (name in _INSTALL_VERBS and match["run"] is None):
            continue  # `yarn`, `yarn --frozen-lockfile`, `pnpm install`
        elif name in scripts and match["run"] != "exec":
            args = re.sub(r"^--(\s+|$)", "", match["args"].strip())
            base = run_script("npm", name)
            segments.append(f"{base} -- {args}" if args else base)
        else:
            segments.append(f"{name} {match['args'].strip()}".strip())
    return " && ".join(segments)
