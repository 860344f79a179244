"""The analysis: choose the layout (compose, workspaces, single), detect each service, merge
ports/env/databases, and decide what cannot be told. Pure over a RepoView; never prints."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from opendeploy_plan import platform
from opendeploy_plan.analyze.commands import builder_start_command, command_ports
from opendeploy_plan.analyze.compose import (
    ComposeFile,
    ComposeService,
    db_type_of_image,
    find_compose,
    parse_compose,
)
from opendeploy_plan.analyze.confirm import needs_confirmation
from opendeploy_plan.analyze.envvars import collect_env, real_env_key_names
from opendeploy_plan.analyze.model import (
    Analysis,
    Confidence,
    DependencyAnalysis,
    Detection,
    Fact,
    PortCandidate,
    ServiceAnalysis,
    ServiceKind,
)
from opendeploy_plan.analyze.registry import detect_folder
from opendeploy_plan.analyze.repo import RepoView, join
from opendeploy_plan.analyze.signals import (
    MAX_SCANNED_FILE_BYTES,
    DockerfileInfo,
    code_files,
    parse_dockerfile,
    parse_procfile,
)
from opendeploy_plan.analyze.uses import attach_dependencies
from opendeploy_plan.analyze.workspaces import (
    MONOREPO_MARKERS,
    top_level_dockerfile_folders,
    workspace_folders,
)

_WORKER_HINT: Final = re.compile(
    r"worker|queue|celery|sidekiq|consumer|scheduler|cron|jobs?\b|beat|bull|rq\b", re.I
)
_HEALTH_RE: Final = re.compile(
    r"[\"'`](/(?:api/)?(?:healthz|health|healthcheck|health-check|livez|readyz|ping|up))[\"'`]"
)
_ROUTE_FILE_RE: Final = re.compile(
    r"(?:^|/)(?:src/)?(?:app|pages|routes)/((?:api/)?(?:healthz|health|livez|readyz))"
    r"(?:/route\.[jt]s|/\+server\.[jt]s|\.[jt]sx?)$"
)
_RAILS_HEALTH_RE: Final = re.compile(r"rails/health#show")
# SKILL.md: "env reads of WALLET_ADDRESS-shaped patterns"; WalletConnect-style names of
# ordinary dApps (NEXT_PUBLIC_WALLET_CONNECT_PROJECT_ID) are not that shape.
_WALLET_RE: Final = re.compile(r"WALLET_?ADDR(ESS)?|(MINING|MINER|POOL|XMR|MONERO)_?WALLET")
_SCAN_CHUNK: Final = 1 << 20
_BASE_IMAGE_LANGUAGES: Final = (
    ("node", "javascript"),
    ("oven/bun", "javascript"),
    ("denoland/deno", "typescript"),
    ("python", "python"),
    ("golang", "go"),
    ("rust", "rust"),
    ("ruby", "ruby"),
    ("php", "php"),
    ("eclipse-temurin", "java"),
    ("openjdk", "java"),
    ("amazoncorretto", "java"),
    ("maven", "java"),
    ("gradle", "java"),
    ("mcr.microsoft.com/dotnet", "csharp"),
    ("elixir", "elixir"),
    ("hexpm/elixir", "elixir"),
    ("nginx", "static"),
    ("httpd", "static"),
    ("caddy", "static"),
)


@dataclass(frozen=True)
class _Candidate:
    name: str
    folder: str
    compose: ComposeService | None = None


def dns_label(text: str, fallback: str = "app") -> str:
    """`My_App.v2` -> `my-app-v2`: lower-case, [a-z0-9-], no edge hyphens, at most 63 chars."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    label = re.sub(r"-{2,}", "-", label)[: platform.DNS_LABEL_MAX_CHARS].strip("-")
    return label if label and platform.is_dns_label(label) else fallback


def find_mining_marker(view: RepoView) -> tuple[str, str] | None:
    """The first (file, marker) from the platform's refusal checklist found in the source.

    Every listed file is searched, binaries included (a bundled miner is a binary), in
    overlapping chunks and case-insensitively, as the source archive's own check does.
    """
    markers = [(m.lower().encode(), m) for m in platform.MINING_MARKERS]
    overlap = max(len(m) for m, _ in markers)
    for rel in view.files:
        name = rel.rsplit("/", 1)[-1].lower().encode()
        for marker, shown in markers:
            if marker in name:
                return rel, shown
        try:
            with (view.root / rel).open("rb") as handle:
                tail = b""
                while chunk := handle.read(_SCAN_CHUNK):
                    window = tail + chunk.lower()
                    for marker, shown in markers:
                        if marker in window:
                            return rel, shown
                    tail = window[-overlap:]
        except OSError:
            continue
    return None


def analyze(root: Path, *, name: str | None = None, environment: str | None = None) -> Analysis:
    """Analyse the folder tree at `root`. Never raises on a strange repository."""
    view = RepoView(root)
    project_name = dns_label(name or view.root.name)
    analysis = Analysis(
        project_name=project_name,
        root=str(view.root),
        layout="single",
        services=[],
        dependencies=[],
        notes=[],
    )
    if view.truncated:
        analysis.notes.append(f"only the first {len(view.files)} files were examined")
    marker = find_mining_marker(view)
    if marker is not None:
        analysis.refusal = (
            f"{marker[0]} contains the crypto-mining marker {marker[1]!r}, which opendeploy "
            "refuses to deploy."
        )
        return analysis

    candidates, compose = _layout(view, analysis, project_name)
    dependencies = _compose_dependencies(compose, analysis) if compose else []
    for candidate in candidates:
        service = _analyze_service(view, candidate, compose, environment)
        analysis.services.append(service)
    attach_dependencies(analysis, dependencies)
    for service in analysis.services:
        wallet = next((v.name for v in service.env if _WALLET_RE.search(v.name)), None)
        if wallet:
            analysis.refusal = (
                f"service {service.name} reads the wallet-address variable {wallet}, which "
                "opendeploy's refusal checklist treats as crypto mining."
            )
            return analysis
    analysis.skipped_env_files = sorted(
        rel
        for rel in view.files
        if re.search(r"(^|/)\.env(\.[\w.-]+)?$", rel)
        and not rel.endswith((".example", ".sample", ".template", ".dist"))
    )
    if not any(_identified(s) for s in analysis.services):
        # Refuse only when nothing says what the app is; anything else is written with what
        # is known and the rest marked for confirmation.
        seen = ", ".join(sorted(view.in_folder("."))[:12]) or "no files"
        analysis.refusal = (
            f"no language or Dockerfile could be identified (files seen at the top level: {seen})."
        )
    for service in analysis.services:
        service.confirm = needs_confirmation(service)
    return analysis


def _identified(service: ServiceAnalysis) -> bool:
    known = service.language is not None and service.language.value != "unknown"
    return known or service.dockerfile is not None


def _layout(
    view: RepoView, analysis: Analysis, project_name: str
) -> tuple[list[_Candidate], ComposeFile | None]:
    compose_rel = find_compose(view)
    compose = parse_compose(view, compose_rel) if compose_rel else None
    if compose is not None:
        built = [s for s in compose.services if s.context is not None]
        for service in compose.services:
            if service.context is None and not db_type_of_image(service.image or "")[0]:
                analysis.notes.append(
                    f"{compose.path}: service {service.name!r} runs the prebuilt image "
                    f"{service.image!r}; opendeploy builds from source, so it was left out"
                )
        if built:
            analysis.layout = "compose"
            return _unique([_Candidate(dns_label(s.name), s.context or ".", s) for s in built]), (
                compose
            )
    markers = [m for m in MONOREPO_MARKERS if view.exists(m)]
    folders, sources = workspace_folders(view)
    docker_folders = top_level_dockerfile_folders(view)
    if markers or sources:
        picked: list[_Candidate] = []
        for folder in folders:
            if _declares_start(view, folder) or view.exists(join(folder, "Dockerfile")):
                picked.append(_Candidate(dns_label(folder.rsplit("/", 1)[-1]), folder))
            elif _is_runnable_service(view, folder):
                picked.append(_Candidate(dns_label(folder.rsplit("/", 1)[-1]), folder))
                analysis.notes.append(
                    f"{folder}: no Dockerfile or scripts.start, but a web framework with a "
                    "start command, or a static site, was detected, so it is a service"
                )
            else:
                analysis.notes.append(
                    f"{folder}: a workspace package without a Dockerfile, scripts.start or "
                    "a Deno tasks.start (a library), not a service"
                )
        if picked:
            analysis.layout = "workspaces"
            return _unique(picked), compose
    if len(docker_folders) >= 2 and not view.exists("Dockerfile"):
        analysis.layout = "dockerfiles"
        return _unique([_Candidate(dns_label(f), f) for f in docker_folders]), compose
    if not view.exists("Dockerfile") and detect_folder(view, ".", fallback=False)[0] is None:
        # Nothing at the root says what the app is, but subfolders do (`frontend/` and
        # `backend/`, or the app in `app/`): each such folder is a service.
        subs = _app_subfolders(view)
        if len(subs) == 1:
            analysis.notes.append(f"the app is in {subs[0]}/ (nothing at the root names it)")
            return [_Candidate(project_name, subs[0])], compose
        if subs:
            analysis.layout = "subfolders"
            return _unique([_Candidate(dns_label(f), f) for f in subs]), compose
    return [_Candidate(project_name, ".")], compose


_NOT_APP_FOLDERS: Final = frozenset(
    {"docs", "doc", "test", "tests", "example", "examples", "scripts", "samples", "fixtures"}
)


def _app_subfolders(view: RepoView) -> list[str]:
    found: list[str] = []
    for folder in view.subfolders("."):
        if folder.startswith(".") or folder.lower() in _NOT_APP_FOLDERS:
            continue
        detection, _notes = detect_folder(view, folder, fallback=False)
        if detection is not None and (
            detection.start_command is not None or detection.kind == "static"
        ):
            found.append(folder)
    return found


def _declares_start(view: RepoView, folder: str) -> bool:
    """The package says how to start it: `scripts.start` in package.json, or `tasks.start` in
    deno.json(c) (a Deno workspace member)."""
    package = view.json(join(folder, "package.json")) or {}
    scripts = package.get("scripts")
    if isinstance(scripts, dict) and "start" in scripts:
        return True
    config = view.first_existing(folder, "deno.json", "deno.jsonc")
    tasks = (view.json5(config) or {}).get("tasks") if config is not None else None
    return isinstance(tasks, dict) and "start" in tasks


def _is_runnable_service(view: RepoView, folder: str) -> bool:
    detection, _notes = detect_folder(view, folder)
    if detection is None or detection.framework is None:
        return False
    if detection.kind == "static":
        # A site (a Vite SPA has its index.html at the top; Angular, CRA, Astro, Hugo are
        # sites by nature), not a component library that also builds with Vite.
        return detection.framework.value != "vite" or view.exists(join(folder, "index.html"))
    return detection.kind == "web" and detection.start_command is not None


def _unique(candidates: list[_Candidate]) -> list[_Candidate]:
    seen: set[str] = set()
    result: list[_Candidate] = []
    for candidate in candidates:
        name = candidate.name
        number = 2
        while name in seen:
            name = f"{candidate.name}-{number}"
            number += 1
        seen.add(name)
        result.append(_Candidate(name, candidate.folder, candidate.compose))
    return result


def _compose_dependencies(
    compose: ComposeFile, analysis: Analysis
) -> list[tuple[str, DependencyAnalysis]]:
    found: list[tuple[str, DependencyAnalysis]] = []
    for service in compose.services:
        is_db, db_type = db_type_of_image(service.image or "")
        if not is_db or service.context is not None:
            continue
        if db_type is None:
            analysis.notes.append(
                f"{compose.path}: service {service.name!r} ({service.image}) has no opendeploy "
                "dependency type; provision it elsewhere"
            )
            continue
        evidence = Fact(db_type, compose.path, f"service {service.name!r} uses {service.image}")
        dep = DependencyAnalysis(dns_label(service.name), db_type, evidence, service.name)
        found.append((service.name, dep))
    return found


def _analyze_service(
    view: RepoView, candidate: _Candidate, compose: ComposeFile | None, environment: str | None
) -> ServiceAnalysis:
    folder = candidate.folder
    detection, notes = detect_folder(view, folder)
    dockerfile_rel = _dockerfile(view, candidate)
    docker = parse_dockerfile(view, dockerfile_rel) if dockerfile_rel else None
    if detection is None and docker is not None:
        detection = _from_dockerfile(docker)
    compose_service = candidate.compose
    kind: ServiceKind = detection.kind if detection else "web"
    if compose_service is not None:
        hint = f"{compose_service.name} {compose_service.command or ''}"
        if not compose_service.ports and _WORKER_HINT.search(hint):
            kind = "worker"
            notes.append(
                f"{compose.path if compose else 'compose'}: {compose_service.name!r} publishes no "
                "port and looks like a background worker"
            )
    start = detection.start_command if detection and kind != "static" else None
    procfile = view.first_existing(folder, "Procfile")
    processes = parse_procfile(view, procfile) if procfile else {}
    web_process = "web" in processes and kind != "static"
    if procfile is not None and web_process:
        # Heroku's rule: the `web` process is the one that serves HTTP.
        start = Fact(processes["web"], procfile, "Procfile web process")
        kind = "web"
    elif procfile is not None and start is None and kind != "static":
        # No `web`: the first long-running process (`release` runs once per deploy).
        running = [(p, c) for p, c in processes.items() if p not in ("release", "postdeploy")]
        if running:
            process, command = running[0]
            start = Fact(command, procfile, f"Procfile {process} process")
    configured = builder_start_command(view, folder)
    if configured is not None and kind != "static":
        start = configured
    if compose_service is not None and compose_service.command:
        start = Fact(
            compose_service.command, compose.path if compose else "compose", "compose command"
        )
    elif docker is not None and docker.command:
        start = Fact(docker.command, docker.path, "Dockerfile CMD/ENTRYPOINT")
    # The start command is what runs: the port it binds (or its server binds) comes first.
    from_command = _command_ports(view, folder, start, docker) if start else []
    if from_command and kind == "worker" and not _is_compose_worker(compose_service):
        kind = "web"
        notes.append(f"the start command binds port {from_command[0].port}; a web service")
    elif (
        docker is not None
        and docker.exposed
        and kind == "worker"
        and not _is_compose_worker(compose_service)
    ):
        kind = "web"
        notes.append(f"{docker.path} exposes port {docker.exposed[0]}; a web service")
    candidates = from_command + _port_candidates(detection, docker, compose_service, compose)
    if (
        kind == "web"
        and not candidates
        and detection is not None
        and detection.framework is None
        and not web_process
    ):
        kind = "worker"
        notes.append("no HTTP server or port was found; treated as a worker")
    port, port_confidence, ambiguous, port_notes = _resolve_port(candidates, kind)
    notes += port_notes
    if detection is not None:
        notes = detection.notes + notes
    env = collect_env(
        view,
        folder,
        detection.language.value if detection else None,
        dockerfile_args=(
            {arg: docker.arg_defaults.get(arg) for arg in docker.args} if docker else {}
        ),
        dockerfile=docker.path if docker else None,
        compose_environment=compose_service.environment if compose_service else {},
        compose_file=compose.path if compose else None,
        real_env_keys=real_env_key_names(view, folder, environment),
        build_script=_build_script(view, folder),
    )
    after = []
    if compose_service is not None and compose is not None:
        built = {s.name for s in compose.services if s.context is not None}
        after = [dns_label(d) for d in compose_service.depends_on if d in built]
    source = folder
    if (
        detection is not None
        and detection.framework is not None
        and detection.framework.value == "static"
        and detection.output_directory not in (None, ".")
        and dockerfile_rel is None
    ):
        # Plain files under public/: that folder is what gets served.
        source = join(folder, str(detection.output_directory))
    return ServiceAnalysis(
        name=candidate.name,
        source=source,
        kind=kind,
        language=detection.language if detection else None,
        framework=detection.framework if detection else None,
        package_manager=detection.package_manager if detection else None,
        build_command=detection.build_command if detection else None,
        start_command=start,
        port=port if kind == "web" else None,
        port_confidence=port_confidence if kind == "web" else None,
        port_ambiguous=tuple(ambiguous) if kind == "web" else (),
        dockerfile=_relative(folder, dockerfile_rel) if dockerfile_rel else None,
        health_check_path=_health_check(view, folder, detection) if kind == "web" else None,
        env=env,
        databases=list(detection.databases) if detection else [],
        uses=[],
        after=after,
        notes=notes,
        compose_service=compose_service.name if compose_service else None,
        compose_depends_on=list(compose_service.depends_on) if compose_service else [],
    )


def _is_compose_worker(compose_service: ComposeService | None) -> bool:
    if compose_service is None or compose_service.ports:
        return False
    return bool(_WORKER_HINT.search(f"{compose_service.name} {compose_service.command or ''}"))


def _dockerfile(view: RepoView, candidate: _Candidate) -> str | None:
    if candidate.compose is not None and candidate.compose.dockerfile:
        rel = join(candidate.folder, candidate.compose.dockerfile)
        if view.exists(rel):
            return rel
    rel = join(candidate.folder, "Dockerfile")
    return rel if view.exists(rel) else None


def _command_ports(
    view: RepoView, folder: str, start: Fact, docker: DockerfileInfo | None
) -> list[PortCandidate]:
    """`command_ports`, with `$PORT`/`${PORT}` read as the Dockerfile's `ENV PORT=`: a
    `--bind 0.0.0.0:$PORT` there binds that port, not its server's default."""
    value = docker.env_defaults.get("PORT", "") if docker is not None else ""
    if not value.isdigit() or not re.search(r"\$\{?PORT\b", start.value):
        return command_ports(view, folder, start)
    bound = re.sub(r"\$\{PORT\}|\$PORT\b", value, start.value)
    found = command_ports(view, folder, Fact(bound, start.file, start.reason, start.confidence))
    why = f"start command `{start.value}` with the Dockerfile's ENV PORT={value}"
    return [replace(c, reason=why) if c.port == int(value) else c for c in found]


def _relative(folder: str, rel: str) -> str:
    return rel if folder in ("", ".") else rel[len(folder) + 1 :]


def _build_script(view: RepoView, folder: str) -> str | None:
    package = view.json(join(folder, "package.json")) or {}
    scripts = package.get("scripts")
    build = scripts.get("build") if isinstance(scripts, dict) else None
    return build if isinstance(build, str) else None


def _from_dockerfile(docker: DockerfileInfo) -> Detection:
    image = docker.base_image.lower()
    language = next(
        (lang for prefix, lang in _BASE_IMAGE_LANGUAGES if image.startswith(prefix)), None
    )
    detection = Detection(
        language=Fact(
            language or "unknown",
            docker.path,
            f"Dockerfile base image {docker.base_image}" if language else "Dockerfile only",
            "low",
        ),
        framework=Fact("docker", docker.path, "built from its Dockerfile", "medium"),
    )
    if language == "static" and not docker.exposed:
        detection.ports.append(PortCandidate(80, 4, docker.path, f"{docker.base_image} serves 80"))
    if not docker.exposed and not docker.command:
        detection.notes.append(f"{docker.path} has neither EXPOSE nor CMD")
    return detection


def _port_candidates(
    detection: Detection | None,
    docker: DockerfileInfo | None,
    compose_service: ComposeService | None,
    compose: ComposeFile | None,
) -> list[PortCandidate]:
    candidates: list[PortCandidate] = []
    if docker is not None:
        candidates += [
            PortCandidate(p, 1, docker.path, "Dockerfile EXPOSE") for p in docker.exposed
        ]
        port_env = docker.env_defaults.get("PORT", "")
        if not docker.exposed and port_env.isdigit() and 0 < int(port_env) < 65536:
            candidates.append(PortCandidate(int(port_env), 1, docker.path, "Dockerfile ENV PORT"))
    if compose_service is not None and compose is not None:
        candidates += [
            PortCandidate(p, 2, compose.path, f"service {compose_service.name!r} ports")
            for p in compose_service.ports
        ]
    if detection is not None:
        candidates += detection.ports
    return candidates


def _resolve_port(
    candidates: list[PortCandidate], kind: ServiceKind
) -> tuple[PortCandidate | None, Confidence | None, list[PortCandidate], list[str]]:
    """The winning port, its confidence, the tied candidates when ambiguous, and notes."""
    if kind != "web" or not candidates:
        return None, None, [], []
    best_rank = min(c.rank for c in candidates)
    tier: dict[int, PortCandidate] = {}
    for candidate in candidates:
        if candidate.rank == best_rank:
            tier.setdefault(candidate.port, candidate)
    notes: list[str] = []
    if len(tier) > 1:
        # A tie broken by the next ranks: `EXPOSE 3000 9229` with `listen(3000)` (9229 is the
        # inspector), `EXPOSE 8080 8081` for ASP.NET Core (8080 is its port). Only when exactly
        # one of the tied ports is confirmed, and only for declared ports: two listeners in
        # code are two servers, which no default can settle.
        confirmed = {c.port for c in candidates if c.rank > best_rank} & set(tier)
        if best_rank in (1, 2) and len(confirmed) == 1:
            port = confirmed.pop()
            dropped = ", ".join(str(p) for p in tier if p != port)
            notes.append(f"port {port} chosen over {dropped}: the code or framework confirms it")
            tier = {port: tier[port]}
    if len(tier) > 1:
        ports = ", ".join(f"{c.port} ({c.file})" for c in tier.values())
        notes.append(f"ambiguous port: {ports}; set `port:` yourself")
        return None, None, list(tier.values()), notes
    winner = next(iter(tier.values()))
    others = sorted(
        {c.port for c in candidates if c.rank < 4 and c.port != winner.port and c.rank > best_rank}
    )
    if others:
        notes.append(
            f"port {winner.port} from {winner.file} wins over {', '.join(map(str, others))} "
            "seen elsewhere (Dockerfile > compose > code > framework default)"
        )
    confidence: Confidence = "high" if best_rank <= 3 and not winner.default else "medium"
    return winner, confidence, [], notes


def _health_check(view: RepoView, folder: str, detection: Detection | None) -> Fact | None:
    if detection is not None and detection.health_check_path is not None:
        return detection.health_check_path
    for rel in view.under(folder):
        match = _ROUTE_FILE_RE.search(rel)
        if match:
            return Fact("/" + match.group(1), rel, "route file")
    suffixes = (
        ".js",
        ".ts",
        ".mjs",
        ".py",
        ".go",
        ".rs",
        ".rb",
        ".php",
        ".java",
        ".kt",
        ".cs",
        ".ex",
        ".exs",
    )
    for rel in code_files(view, folder, suffixes):
        text = view.read(rel, MAX_SCANNED_FILE_BYTES)
        if text is None:
            continue
        if rel.endswith("routes.rb") and _RAILS_HEALTH_RE.search(text):
            return Fact("/up", rel, "Rails health route", "high")
        match = _HEALTH_RE.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            return Fact(match.group(1), f"{rel}:{line}", "route defined in code")
    return None
