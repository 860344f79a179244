"""What a start command says about the port: the port it binds, or the port its server binds by
default. The start command is what runs, so these ports outrank every other hint (an `EXPOSE`
or a framework default): `init` never writes `port: 8080` beside a command that binds 5000.
"""

from __future__ import annotations

import re
import shlex
from typing import Final

from opendeploy_plan.analyze.model import Fact, PortCandidate
from opendeploy_plan.analyze.repo import RepoView, join
from opendeploy_plan.analyze.signals import ports_in_command

# Rank 0: above the Dockerfile (1), compose (2), code (3) and framework defaults (4).
COMMAND_RANK: Final = 0

# (pattern on the command, default port, why): servers that bind a known port when the
# command names none. Order matters: the first match wins.
_SERVER_DEFAULTS: Final[tuple[tuple[re.Pattern[str], int, str], ...]] = (
    (re.compile(r"\bthrust\b"), 80, "Thruster listens on 80 in front of the app"),
    (re.compile(r"\bgunicorn\b"), 8000, "gunicorn binds 8000 by default"),
    (re.compile(r"\buvicorn\b"), 8000, "uvicorn binds 8000 by default"),
    (re.compile(r"\bhypercorn\b"), 8000, "hypercorn binds 8000 by default"),
    (re.compile(r"\bdaphne\b"), 8000, "daphne binds 8000 by default"),
    (re.compile(r"\bgranian\b"), 8000, "granian binds 8000 by default"),
    (re.compile(r"\bfastapi\s+run\b"), 8000, "`fastapi run` binds 8000"),
    (re.compile(r"\bwaitress-serve\b"), 8080, "waitress-serve binds 8080 by default"),
    (re.compile(r"\bstreamlit\s+run\b"), 8501, "streamlit serves on 8501"),
    (re.compile(r"\bchainlit\s+run\b"), 8000, "chainlit serves on 8000"),
    (re.compile(r"\bflask\b.*\brun\b"), 5000, "`flask run` binds 5000"),
    (re.compile(r"\bmanage\.py\s+runserver\b"), 8000, "`runserver` binds 8000"),
    (re.compile(r"\brails\s+(?:s|server)\b"), 3000, "`rails server` binds 3000"),
    (re.compile(r"\brackup\b"), 9292, "rackup binds 9292"),
    (re.compile(r"\bpuma\b"), 9292, "puma binds 9292 without a config"),
    (re.compile(r"\bartisan\s+serve\b"), 8000, "`artisan serve` binds 8000"),
    (re.compile(r"\bnext\s+start\b"), 3000, "`next start` binds 3000"),
    (re.compile(r"\bremix-serve\b"), 3000, "remix-serve binds 3000"),
    (re.compile(r"\breact-router-serve\b"), 3000, "react-router-serve binds 3000"),
    (re.compile(r"\bvinxi\s+start\b"), 3000, "vinxi's node server binds 3000"),
    (re.compile(r"\.output/server/index\.mjs\b"), 3000, "Nitro's node server binds 3000"),
    (re.compile(r"\bdist/server/entry\.mjs\b"), 4321, "Astro's standalone server binds 4321"),
    (re.compile(r"\bnode\s+build\b"), 3000, "SvelteKit's adapter-node binds 3000"),
    (re.compile(r"\bvite\s+preview\b"), 4173, "`vite preview` serves on 4173"),
    (re.compile(r"\bmix\s+phx\.server\b"), 4000, "Phoenix binds 4000"),
    (re.compile(r"\bphp\s+-S\b"), 8080, "the `php -S` command"),
    (re.compile(r"\bhttp\.server\b"), 8000, "`python -m http.server` binds 8000"),
    (re.compile(r"(?:^|[;&|]\s*|npx\s+)serve\b"), 3000, "the `serve` package binds 3000"),
    (re.compile(r"\b(?:http-server|live-server)\b"), 8080, "http-server binds 8080"),
)
# Ports given as a bare argument: `python -m http.server 8000`, `serve -l 5000`.
_POSITIONAL_PORT_RE: Final = re.compile(
    r"\bhttp\.server\s+(\d{2,5})\b|\bserve\b.*?\s-l\s+(\d{2,5})\b"
)
_SCRIPT_RUN_RE: Final = re.compile(
    r"^(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?([\w:.-]+)\s*$|^(?:npm|pnpm|yarn)\s+start\b"
)
_SHELL_SCRIPT_RE: Final = re.compile(r"^(?:sh|bash|exec)?\s*\.?/?([\w./-]+\.sh)\b")
_GUNICORN_CONF_RE: Final = re.compile(r"^\s*bind\s*=\s*\[?\s*['\"][^'\"]*:(\d{2,5})['\"]", re.M)


def command_ports(view: RepoView, folder: str, command: Fact) -> list[PortCandidate]:
    """Rank-0 port candidates from the start command: ports it names, else its server's."""
    text = _expand(view, folder, command.value)
    explicit = ports_in_command(text) + [
        int(next(g for g in m.groups() if g)) for m in _POSITIONAL_PORT_RE.finditer(text)
    ]
    if explicit:
        # A command `init` composed itself (`uvicorn main:app --port 8000`) is a convention,
        # not the repository's word: its port is no surer than the command.
        return [
            PortCandidate(
                port,
                COMMAND_RANK,
                command.file,
                f"start command `{command.value}`",
                default=command.confidence != "high",
            )
            for port in dict.fromkeys(explicit)
        ]
    if re.search(r"\bgunicorn\b", text):
        conf = _gunicorn_conf(view, folder, text)
        if conf is not None:
            return [conf]
    if re.search(r"\bpuma\b", text) or re.search(r"\brails\s+(?:s|server)\b", text):
        puma = join(folder, "config/puma.rb")
        match = re.search(
            r"\bport\s+ENV\.fetch\(['\"]PORT['\"]\)\s*\{\s*(\d{2,5})", view.read(puma) or ""
        )
        if match:
            return [PortCandidate(int(match.group(1)), COMMAND_RANK, puma, "puma's port")]
    for pattern, port, why in _SERVER_DEFAULTS:
        if pattern.search(text):
            return [PortCandidate(port, COMMAND_RANK, command.file, why, default=True)]
    return []


def _expand(view: RepoView, folder: str, command: str) -> str:
    """The command with a package script or a shell start script it runs appended."""
    text = command
    match = _SCRIPT_RUN_RE.match(command.strip())
    if match:
        script = match.group(1) or "start"
        package = view.json(join(folder, "package.json")) or {}
        scripts = package.get("scripts")
        body = scripts.get(script) if isinstance(scripts, dict) else None
        if isinstance(body, str):
            text += " ; " + body
    shell = _SHELL_SCRIPT_RE.match(command.strip())
    if shell:
        body = view.read(join(folder, shell.group(1).removeprefix("./")))
        if body:
            text += " ; " + " ".join(
                line for line in body.splitlines() if not line.lstrip().startswith("#")
            )
    return text


def _gunicorn_conf(view: RepoView, folder: str, command: str) -> PortCandidate | None:
    try:
        words = shlex.split(command.split(";", 1)[0])
    except ValueError:
        words = command.split()
    configured = None
    for index, word in enumerate(words):
        if word in ("-c", "--config") and index + 1 < len(words):
            configured = words[index + 1]
        elif word.startswith("--config="):
            configured = word.split("=", 1)[1]
    names = [configured] if configured else ["gunicorn.conf.py"]
    for name in names:
        rel = join(folder, name.removeprefix("python:").removeprefix("./"))
        match = _GUNICORN_CONF_RE.search(view.read(rel) or "")
        if match:
            return PortCandidate(int(match.group(1)), COMMAND_RANK, rel, "gunicorn `bind`")
    return None


def builder_start_command(view: RepoView, folder: str) -> Fact | None:
    """A start command set in a builder's own config (`nixpacks.toml` `[start] cmd`,
    `railpack.json` `deploy.startCommand`): the user's explicit word for how the app starts."""
    rel = join(folder, "nixpacks.toml")
    start = (view.toml(rel) or {}).get("start")
    if isinstance(start, dict) and isinstance(start.get("cmd"), str) and start["cmd"].strip():
        return Fact(start["cmd"].strip(), rel, "nixpacks.toml [start] cmd")
    rel = join(folder, "railpack.json")
    deploy = (view.json(rel) or {}).get("deploy")
    command = deploy.get("startCommand") if isinstance(deploy, dict) else None
    if isinstance(command, str) and command.strip():
        return Fact(command.strip(), rel, "railpack.json deploy.startCommand")
    return None
