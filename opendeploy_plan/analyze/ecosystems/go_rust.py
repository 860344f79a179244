"""Go (go.mod: net/http, gin, echo, fiber, chi) and Rust (Cargo.toml: actix, axum, rocket)."""

from __future__ import annotations

import re
from typing import Final

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, join, relative_to
from opendeploy_plan.analyze.signals import (
    code_files,
    databases_from_packages,
    default_port,
    grep_first,
    scan_ports,
)

_GO_REQUIRE_RE: Final = re.compile(r"^\s*(?:require\s+)?([a-z0-9.\-]+\.[a-z]+/[^\s]+)\s+v", re.M)
_GO_PORT_PATTERNS: Final = (
    re.compile(
        r"(?:ListenAndServe|ListenAndServeTLS|\.Run|\.Start|\.Listen)\(\s*\"[^\"]*:(\d{2,5})\""
    ),
    re.compile(r"\bport\s*(?::=|=)\s*\"(\d{2,5})\"", re.I),
    re.compile(r"\bAddr\s*:\s*\"[^\"]*:(\d{2,5})\""),
)
# (module prefix, framework, default port, why)
_GO_FRAMEWORKS: Final = (
    ("github.com/gin-gonic/gin", "gin", 8080, "gin's Run() listens on 8080"),
    ("github.com/labstack/echo", "echo", 1323, "echo's documented examples listen on 1323"),
    ("github.com/gofiber/fiber", "fiber", 3000, "fiber's documented examples listen on 3000"),
    ("github.com/go-chi/chi", "chi", 8080, "chi runs on net/http; 8080 by convention"),
)


def detect_go(view: RepoView, folder: str) -> Detection | None:
    gomod = view.first_existing(folder, "go.mod")
    if gomod is None:
        gowork = view.first_existing(folder, "go.work")
        return _go_workspace(view, folder, gowork) if gowork else None
    text = view.read(gomod) or ""
    modules = {m.lower(): m for m in _GO_REQUIRE_RE.findall(text)}
    detection = Detection(
        language=Fact("go", gomod, "go.mod present"),
        package_manager=Fact("go", gomod, "Go modules"),
    )
    files = code_files(view, folder, (".go",))
    for prefix, name, port, why in _GO_FRAMEWORKS:
        module = next((m for m in modules if m.startswith(prefix)), None)
        if module:
            detection.framework = Fact(name, gomod, f"requires {modules[module]}")
            detection.ports.append(default_port(port, gomod, why))
            break
    if detection.framework is None:
        hit = grep_first(view, files, re.compile(r"http\.ListenAndServe|http\.Server\{"))
        if hit:
            detection.framework = Fact("net/http", hit[0], "uses net/http's server")
            detection.ports.append(default_port(8080, hit[0], "Go net/http services use 8080"))
        else:
            detection.kind = "worker"
    main = _go_main_package(view, folder, files)
    if main is not None:
        target = "." if main in ("", ".") else f"./{main}"
        detection.build_command = Fact(
            f"go build -o app {target}", gomod, "package main found", "medium"
        )
        detection.start_command = Fact("./app", gomod, "the built binary", "medium")
    detection.ports.extend(scan_ports(view, files, _GO_PORT_PATTERNS, "code"))
    lowered = dict(modules)
    for module in modules:
        base = re.sub(r"/v\d+$", "", module)
        lowered.setdefault(base, modules[module])
    detection.databases.extend(databases_from_packages(lowered, gomod))
    return detection


_GO_USE_RE: Final = re.compile(r"^\s*(?:use\s+)?(\./[\w./-]+|\.)\s*$", re.M)


def _go_workspace(view: RepoView, folder: str, gowork: str) -> Detection | None:
    """A go.work workspace: the member module with a `main` package (a web server first)."""
    members = [
        m.removeprefix("./").rstrip("/") for m in _GO_USE_RE.findall(view.read(gowork) or "")
    ]
    found: list[tuple[str, Detection]] = []
    for member in members:
        sub = join(folder, member) if member not in ("", ".") else folder
        if sub == folder:
            continue
        detection = detect_go(view, sub)
        if detection is not None and detection.start_command is not None:
            found.append((member, detection))
    if not found:
        return None
    found.sort(key=lambda item: item[1].kind != "web")
    member, chosen = found[0]
    chosen.language = Fact("go", gowork, f"go.work workspace; module ./{member}")
    if chosen.build_command is not None:
        target = chosen.build_command.value.rsplit(" ", 1)[-1]
        inner = target.removeprefix("./").removeprefix(".")
        path = f"./{member}" + (f"/{inner}" if inner else "")
        chosen.build_command = Fact(f"go build -o app {path}", gowork, "go.work member", "medium")
    others = [m for m, _ in found[1:]]
    if others:
        chosen.notes.append(f"{gowork}: ./{member} chosen; also runnable: {', '.join(others)}")
    return chosen


def _go_main_package(view: RepoView, folder: str, files: list[str]) -> str | None:
    candidates: list[str] = []
    for rel in files:
        text = view.read(rel) or ""
        if re.search(r"^package main\b", text, re.M) and "func main()" in text:
            inner = relative_to(folder, rel)
            candidates.append(inner.rsplit("/", 1)[0] if "/" in inner else ".")
    if not candidates:
        return None
    return "." if "." in candidates else sorted(candidates)[0]


_RUST_PORT_PATTERNS: Final = (
    re.compile(r"\.bind\(\s*\(\s*\"[^\"]*\"\s*,\s*(\d{2,5})\s*\)"),
    re.compile(r"(?:bind|TcpListener::bind|serve|run)\(\s*&?\"[^\"]*:(\d{2,5})\""),
    re.compile(r"SocketAddr::from\(\(\s*\[[^\]]*\]\s*,\s*(\d{2,5})\s*\)\)"),
    re.compile(r"\"PORT\"\)[^;]{0,80}?unwrap_or(?:_else)?\([^)]*?\"?(\d{2,5})"),
)
_RUST_FRAMEWORKS: Final = (
    ("actix-web", "actix", 8080, "Actix services use 8080 (analyze-local.md)"),
    ("axum", "axum", 3000, "axum's documented examples listen on 3000"),
    ("rocket", "rocket", 8000, "Rocket listens on 8000 by default"),
    ("warp", "warp", 3030, "warp's documented examples listen on 3030"),
)


def detect_rust(view: RepoView, folder: str) -> Detection | None:
    cargo_rel = view.first_existing(folder, "Cargo.toml")
    if cargo_rel is None:
        return None
    cargo = view.toml(cargo_rel) or {}
    workspace = cargo.get("workspace")
    if isinstance(workspace, dict) and not isinstance(cargo.get("package"), dict):
        chosen = _rust_workspace(view, folder, cargo_rel, workspace)
        if chosen is not None:
            return chosen
    return _rust_crate(view, folder, cargo_rel, cargo)


def _rust_binaries(view: RepoView, folder: str, cargo: dict[str, object]) -> list[str]:
    package = cargo.get("package")
    name = package.get("name") if isinstance(package, dict) else None
    bins: list[str] = []
    table = cargo.get("bin")
    if isinstance(table, list):
        bins += [str(b["name"]) for b in table if isinstance(b, dict) and "name" in b]
    if isinstance(name, str) and view.exists(join(folder, "src/main.rs")) and name not in bins:
        bins.append(name)
    for rel in sorted(view.glob(folder, "src/bin/*.rs")):
        stem = rel.rsplit("/", 1)[-1][:-3]
        if stem not in bins:
            bins.append(stem)
    return bins


def _rust_workspace(
    view: RepoView, folder: str, cargo_rel: str, workspace: dict[str, object]
) -> Detection | None:
    """A Cargo workspace: the member crate(s) with a binary; a web server first."""
    members = workspace.get("members")
    patterns = [str(m).rstrip("/") for m in members] if isinstance(members, list) else []
    crates: list[str] = []
    for pattern in patterns:
        for rel in sorted(view.glob(folder, f"{pattern}/Cargo.toml")):
            crate = rel.rsplit("/", 1)[0]
            if crate.count("/") - (0 if folder in ("", ".") else folder.count("/") + 1) == (
                pattern.count("/")
            ):
                crates.append(crate)
    found: list[tuple[str, Detection]] = []
    for crate in dict.fromkeys(crates):
        crate_cargo = join(crate, "Cargo.toml")
        data = view.toml(crate_cargo) or {}
        if not _rust_binaries(view, crate, data):
            continue
        found.append((crate, _rust_crate(view, crate, crate_cargo, data)))
    if not found:
        return None
    found.sort(key=lambda item: (item[1].kind != "web", item[1].framework is None))
    crate, chosen = found[0]
    chosen.language = Fact("rust", cargo_rel, f"Cargo workspace; binary crate {crate}")
    name = chosen.start_command.value.rsplit("/", 1)[-1] if chosen.start_command else None
    if name:
        chosen.build_command = Fact(
            f"cargo build --release --bin {name}", cargo_rel, "workspace binary", "medium"
        )
    others = [c for c, _ in found[1:]]
    if others:
        chosen.notes.append(
            f"{cargo_rel}: {crate} chosen; other binary crates: {', '.join(others)}"
        )
    return chosen


def _rust_crate(view: RepoView, folder: str, cargo_rel: str, cargo: dict[str, object]) -> Detection:
    deps: dict[str, str] = {}
    features: set[str] = set()
    for key in ("dependencies", "dev-dependencies"):
        section = cargo.get(key)
        if isinstance(section, dict):
            deps.update({str(k).lower(): str(k) for k in section})
            for spec in section.values():
                if isinstance(spec, dict) and isinstance(spec.get("features"), list):
                    features.update(str(f) for f in spec["features"])
    detection = Detection(
        language=Fact("rust", cargo_rel, "Cargo.toml present"),
        package_manager=Fact("cargo", cargo_rel, "Cargo.toml present"),
        build_command=Fact("cargo build --release", cargo_rel, "Cargo project", "medium"),
    )
    bins = _rust_binaries(view, folder, cargo)
    package = cargo.get("package")
    name = package.get("name") if isinstance(package, dict) else None
    binary = bins[0] if bins else name if isinstance(name, str) else None
    if binary:
        detection.start_command = Fact(
            f"./target/release/{binary}", cargo_rel, "the crate's binary", "medium"
        )
    for dep, framework, port, why in _RUST_FRAMEWORKS:
        if dep in deps:
            detection.framework = Fact(framework, cargo_rel, f"depends on {deps[dep]}")
            detection.ports.append(default_port(port, cargo_rel, why))
            break
    files = code_files(view, folder, (".rs", ".toml"))
    detection.ports.extend(scan_ports(view, files, _RUST_PORT_PATTERNS, "code"))
    rocket_toml = view.first_existing(folder, "Rocket.toml")
    if rocket_toml:
        detection.ports.extend(
            scan_ports(view, [rocket_toml], (re.compile(r"\bport\s*=\s*(\d{2,5})"),), "config")
        )
    if detection.framework is None:
        if any(d in deps for d in ("hyper", "tiny_http", "tide", "poem", "salvo")):
            web = next(d for d in ("hyper", "tiny_http", "tide", "poem", "salvo") if d in deps)
            detection.framework = Fact(web, cargo_rel, f"depends on {deps[web]}")
        elif not detection.ports:
            detection.kind = "worker"
    aliases = {"redis": "redis-rs", "postgres": "tokio-postgres", "mongodb": "mongo-driver"}
    detection.databases.extend(
        databases_from_packages({aliases.get(k, k): v for k, v in deps.items()}, cargo_rel)
    )
    for orm in ("sqlx", "diesel", "sea-orm"):
        if orm not in deps:
            continue
        for feature, engine in (("postgres", "postgres"), ("mysql", "mysql")):
            if any(feature in f for f in features) and all(
                d.value != engine for d in detection.databases
            ):
                detection.databases.append(Fact(engine, cargo_rel, f"{orm} feature {feature}"))
    return detection
