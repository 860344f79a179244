"""Build a service from its extracted source with the host's toolchains, no container.

`plan_build` decides what to do (which stack, which install and build steps, which start
command and port) from the service's settings and `opendeploy_plan.analyze` (the detection
behind `odplan init`; nothing is detected twice). `run_build` copies the source into the
deployment's own artifact folder and runs the steps there. Dependencies live in shared,
content-keyed caches (a virtualenv or node_modules per hash of the dependency files), so a
rebuild with unchanged dependencies only copies the source.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final, Literal

from opendeploy_plan.analyze import ServiceAnalysis, analyze
from opendeploy_plan.runtime.commands import as_npm, bound_to_port, package_scripts, without_runner
from opendeploy_plan.runtime.logs import LogStream
from opendeploy_plan.runtime.pyrequirements import RequirementsError, declared_requirements
from opendeploy_plan.runtime.supervisor import RunAs, Supervised, hand_over
from opendeploy_plan.runtime.toolchains import Toolchains

Stack = Literal["python", "node", "static"]
_IGNORED: Final = shutil.ignore_patterns(".git", "node_modules", ".venv", "__pycache__")
_LOCKFILES: Final = {
    "npm": ("package-lock.json", "npm-shrinkwrap.json"),
    "pnpm": ("pnpm-lock.yaml",),
    "yarn": ("yarn.lock",),
}
# What a Dockerfile may hold for the runtime to build it natively: the languages it builds,
# and static files (an nginx/httpd image only serves them; the router does that here).
_NATIVE_DOCKERFILES: Final = ("python", "javascript", "typescript", "html", "static")
_STATIC_OUTPUTS: Final = ("dist", "build", "out", "public", "_site")
ARTIFACT_RECORD: Final = "artifact.json"
# Download caches under the cache root, one per tool (see `Builder.base_env`).
_TOOL_CACHES: Final = ("pip", "uv", "npm")


class BuildUnsupported(Exception):
    """This stack cannot be built on this machine; `missing` names what would be needed."""

    def __init__(self, missing: str) -> None:
        super().__init__(missing)
        self.missing = missing


class BuildFailed(Exception):
    """A build step failed (or the settings are unusable); the log holds the real output."""


@dataclass(frozen=True)
class ServiceSettings:
    """The platform's service settings the build honours (names as in the API)."""

    name: str
    source_path: str = ""
    build_command: str = ""
    start_command: str = ""
    dockerfile_path: str = ""
    port: int | None = None
    health_check_path: str = ""
    build_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildPlan:
    """What to build and how to start it. `start_command` is None only for static sites."""

    stack: Stack
    kind: Literal["web", "worker", "static"]
    package_manager: str
    build_command: str
    start_command: str | None
    port: int | None
    health_check_path: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Artifact:
    """A finished build: everything needed to start it again without rebuilding (no secrets).

    `path_prefix` are folders put first on PATH (a virtualenv's bin); `static_root` is the
    folder the router serves for a static site.
    """

    folder: str
    app_dir: str
    stack: Stack
    kind: str
    start_command: str | None
    port: int | None
    health_check_path: str
    path_prefix: tuple[str, ...] = ()
    static_root: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def save(self) -> None:
        Path(self.folder, ARTIFACT_RECORD).write_text(json.dumps(asdict(self)))

    @staticmethod
    def load(folder: Path) -> Artifact:
        data = json.loads((folder / ARTIFACT_RECORD).read_text())
        data["path_prefix"] = tuple(data["path_prefix"])
        return Artifact(**data)


def _analysis_for(app_dir: Path) -> ServiceAnalysis | None:
    result = analyze(app_dir)
    for service in result.services:
        if service.source in ("", "."):
            return service
    return result.services[0] if result.services else None


def plan_build(
    app_dir: Path, settings: ServiceSettings, tools: Toolchains, *, in_artifact: bool = True
) -> BuildPlan:
    """Choose the stack, steps, start command and port for the source in `app_dir`.

    Raises BuildUnsupported when this machine lacks what the stack needs, BuildFailed when
    the settings cannot work (no start command anywhere). `in_artifact` says `app_dir` is
    our private copy (a custom Dockerfile is then copied to where analyze reads it)."""
    custom_dockerfile = settings.dockerfile_path not in ("", "Dockerfile")
    if custom_dockerfile and in_artifact:
        # analyze reads `Dockerfile`; the artifact is our private copy, so put it there.
        custom = app_dir / settings.dockerfile_path
        if not custom.is_file():
            raise BuildFailed(f"dockerfile_path {settings.dockerfile_path} does not exist")
        shutil.copyfile(custom, app_dir / "Dockerfile")
    service = _analysis_for(app_dir)
    language = service.language.value if service and service.language else "unknown"
    kind = service.kind if service else "web"
    if settings.port and kind == "worker":
        kind = "web"  # the service's settings give it a port: the platform routes to it
    notes: list[str] = []
    if service is not None and service.dockerfile:
        if language not in _NATIVE_DOCKERFILES:
            raise BuildUnsupported(
                f"a container runtime for {service.dockerfile} (a {language} app); the local "
                "runtime runs Dockerfiles of Python, Node and static sites natively"
            )
        notes.append(
            "Dockerfile read for its CMD and port; its steps run natively, no container"
            if language in ("python", "javascript", "typescript")
            else "Dockerfile not run: the router serves the site's files itself (a web "
            "server config the image would use, such as nginx.conf, does not apply)"
        )
    stack: Stack
    manager = service.package_manager.value if service and service.package_manager else ""
    fallback_from = ""
    if kind == "static" or language in ("html", "static"):
        stack, kind = "static", "static"
    elif language == "python":
        stack = "python"
        if tools.python is None:
            raise BuildUnsupported("python3 (not found on PATH or not usable by the build user)")
    elif language in ("javascript", "typescript"):
        stack = "node"
        if tools.node is None or tools.npm is None:
            raise BuildUnsupported("node and npm (not found on PATH)")
        if manager in ("pnpm", "yarn") and getattr(tools, manager) is None:
            asked = service.package_manager.reason if service and service.package_manager else ""
            notes.append(
                f"{manager} ({asked}) is not installed here: installing with npm instead and "
                f"running `{manager} <script>` as `npm run <script>`; versions come from "
                f"package.json, not {manager}'s lockfile (install {manager} to use it)"
            )
            fallback_from = manager
            manager = "npm"
    else:
        raise BuildUnsupported(
            f"a {language} toolchain: the local runtime builds Python, Node and static sites"
        )
    detected_build = service.build_command.value if service and service.build_command else ""
    start = settings.start_command or (
        service.start_command.value if service and service.start_command else ""
    )
    if stack != "static" and not start:
        raise BuildFailed(
            f"no start command for service {settings.name}: add a Procfile `web:` line, a "
            'Dockerfile CMD, a `start` script (Node) or an `if __name__ == "__main__":` '
            "block in main.py/app.py (Python)"
        )
    declared = settings.port or (service.port.port if service and service.port else None)
    health = settings.health_check_path or (
        service.health_check_path.value if service and service.health_check_path else ""
    )
    build = settings.build_command or detected_build
    if stack == "python":
        start, build = without_runner(start), without_runner(build)
    elif fallback_from:
        scripts = package_scripts(app_dir)
        start = as_npm(start, fallback_from, scripts)
        build = as_npm(build, fallback_from, scripts)
    if kind == "web":
        start, bound = bound_to_port(start)
        notes += [bound] if bound else []
    return BuildPlan(
        stack=stack,
        kind=kind,
        package_manager=manager or ("pip" if stack == "python" else "npm"),
        build_command=build,
        start_command=start or None,
        port=None if kind == "worker" else declared,
        health_check_path=health if kind == "web" else "",
        notes=tuple(notes),
    )


def _pages(folder: Path) -> dict[Path, int]:
    """Every index.html under `folder` (not in node_modules, a link) with its mtime in ns."""
    return {page: page.stat().st_mtime_ns for page in folder.glob("**/index.html")}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (two builds of the same dependencies wait in turn)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big") + part)
    return hasher.hexdigest()[:20]


class Builder:
    """Runs builds. One per runtime; `cache_dir` is shared by every build.

    Invariant: each build writes only its own `artifact_dir` and the content-keyed cache
    entries; a cache entry is used only once its `.complete` marker exists.
    """

    def __init__(self, cache_dir: Path, tools: Toolchains, run_as: RunAs | None) -> None:
        self.cache_dir = cache_dir
        self.tools = tools
        self.run_as = run_as
        self._ensure_folder(cache_dir)
        # The download caches are written by the build user's tools, which cannot create
        # them under a cache root that we (root) own: npm then fails with EACCES, pip
        # silently downloads everything again. Create them here, handed over.
        for tool in _TOOL_CACHES:
            self._ensure_folder(cache_dir / tool)

    def _ensure_folder(self, folder: Path) -> None:
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            hand_over(folder, self.run_as)

    def base_env(self, home: Path) -> dict[str, str]:
        return {
            "PATH": self.tools.search_path(),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "CI": "true",
            # CI=true turns colours on in many tools (vite, picocolors); logs are plain text.
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            "npm_config_color": "false",
            "PIP_CACHE_DIR": str(self.cache_dir / "pip"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_PROGRESS_BAR": "off",
            "UV_CACHE_DIR": str(self.cache_dir / "uv"),
            "npm_config_cache": str(self.cache_dir / "npm"),
            "npm_config_update_notifier": "false",
            "npm_config_fund": "false",
            "npm_config_audit": "false",
        }

    def build(
        self,
        source_dir: Path,
        artifact_dir: Path,
        settings: ServiceSettings,
        log: LogStream,
        cancelled: threading.Event,
    ) -> Artifact:
        """Copy `source_dir`, install dependencies, run the build command; an Artifact."""
        if not source_dir.is_dir():
            raise BuildFailed(f"source_path {settings.source_path or '.'} is not a folder")
        app_dir = artifact_dir / "app"
        home = artifact_dir / "home"
        shutil.copytree(source_dir, app_dir, symlinks=True, ignore=_IGNORED)
        home.mkdir(parents=True, exist_ok=True)
        plan = plan_build(app_dir, settings, self.tools)
        hand_over(artifact_dir, self.run_as)
        for note in plan.notes:
            log.write(note, phase="building")
        log.write(f"stack: {plan.stack} ({plan.package_manager})", phase="building")
        env = self.base_env(home) | dict(settings.build_variables)
        prefix: list[str] = []
        extra: dict[str, str] = {}
        if plan.stack == "python":
            venv = self._python_environment(app_dir, env, log, cancelled)
            prefix.append(str(venv / "bin"))
            extra["VIRTUAL_ENV"] = str(venv)
            extra["PYTHONPATH"] = os.pathsep.join(
                str(p) for p in (app_dir, app_dir / "src") if p.is_dir()
            )
            extra["PYTHONUNBUFFERED"] = "1"
        elif plan.stack == "node" or (app_dir / "package.json").is_file():
            modules = self._node_modules(app_dir, plan.package_manager, env, log, cancelled)
            if modules is not None:
                prefix.append(str(app_dir / "node_modules" / ".bin"))
        pages_before = _pages(app_dir) if plan.stack == "static" else {}
        if plan.build_command:
            run_env = env | extra
            run_env["PATH"] = os.pathsep.join([*prefix, env["PATH"]])
            self._step(plan.build_command, app_dir, run_env, log, cancelled)
        static_root = None
        if plan.stack == "static":
            root = self._static_root(app_dir, pages_before if plan.build_command else None)
            static_root = str(root)
            shown = root.relative_to(app_dir).as_posix()
            if plan.build_command and root == app_dir:
                log.write(
                    "the build wrote no index.html: serving the source folder as it is",
                    phase="building",
                )
            elif shown != ".":
                log.write(f"site folder: {shown}/", phase="building")
        artifact = Artifact(
            folder=str(artifact_dir),
            app_dir=str(app_dir),
            stack=plan.stack,
            kind=plan.kind,
            start_command=plan.start_command,
            port=plan.port,
            health_check_path=plan.health_check_path,
            path_prefix=tuple(prefix),
            static_root=static_root,
            extra_env=extra,
        )
        artifact.save()
        return artifact

    def _step(
        self,
        command: str,
        cwd: Path,
        env: Mapping[str, str],
        log: LogStream,
        cancelled: threading.Event,
    ) -> None:
        """Run one shell command as the build user; BuildFailed on a non-zero exit."""
        log.write(f"$ {command}", phase="building")
        process = Supervised(
            ["/bin/sh", "-c", command],
            cwd=cwd,
            env=env,
            log=log,
            phase="building",
            run_as=self.run_as,
            label="build",
        )
        while (code := process.wait(0.2)) is None:
            if cancelled.is_set():
                process.stop(1.0)
                raise BuildFailed("the build was cancelled")
        if code != 0:
            raise BuildFailed(f"`{command}` exited with code {code}")

    def _python_environment(
        self, app_dir: Path, env: dict[str, str], log: LogStream, cancelled: threading.Event
    ) -> Path:
        """A virtualenv with the app's dependencies, shared by every build that has them."""
        assert self.tools.python is not None
        requirements = app_dir / "requirements.txt"
        packages: list[str] = []
        files: list[bytes] = []
        if requirements.is_file():
            files.append(requirements.read_bytes())
        else:
            try:
                packages, origin, notes = declared_requirements(app_dir)
            except RequirementsError as error:
                raise BuildFailed(str(error)) from error
            for note in notes:
                log.write(note, phase="building")
            if origin:
                log.write(f"dependencies from {origin}", phase="building")
            files.append("\n".join(packages).encode())
        installer = "uv" if self.tools.uv else "pip"
        key = _digest(self.tools.python.encode(), installer.encode(), *files)
        venv = self.cache_dir / "python" / key
        self._ensure_folder(venv.parent)
        with _locked(self.cache_dir / "python" / f"{key}.lock"):
            if (venv / ".complete").exists():
                log.write(f"dependencies unchanged: reusing environment {key}", phase="building")
                return venv
            shutil.rmtree(venv, ignore_errors=True)
            wants = bool(packages) or any(
                line.strip() and not line.lstrip().startswith("#")
                for line in (files[0].decode("utf-8", "replace") if files else "").splitlines()
            )
            python = self.tools.python
            if self.tools.uv:
                self._step(
                    f"{self.tools.uv} venv --python {python} {venv}", app_dir, env, log, cancelled
                )
                install = f"{self.tools.uv} pip install --python {venv}/bin/python"
            elif self.tools.host_pip:
                self._step(f"{python} -m venv --without-pip {venv}", app_dir, env, log, cancelled)
                install = f"{python} -m pip --python {venv}/bin/python install"
            else:
                pip = "" if wants else " --without-pip"
                self._step(f"{python} -m venv{pip} {venv}", app_dir, env, log, cancelled)
                install = f"{venv}/bin/python -m pip install"
            if wants and requirements.is_file():
                self._step(f"{install} -r requirements.txt", app_dir, env, log, cancelled)
            elif packages:
                quoted = " ".join("'" + p.replace("'", "'\\''") + "'" for p in packages)
                self._step(f"{install} {quoted}", app_dir, env, log, cancelled)
            (venv / ".complete").touch()
        return venv

    def _node_modules(
        self,
        app_dir: Path,
        manager: str,
        env: dict[str, str],
        log: LogStream,
        cancelled: threading.Event,
    ) -> Path | None:
        """node_modules for this package.json and lockfile, linked into the app folder."""
        package = app_dir / "package.json"
        try:
            manifest = json.loads(package.read_text())
        except (OSError, ValueError) as error:
            raise BuildFailed(f"package.json: {error}") from error
        if not manifest.get("dependencies") and not manifest.get("devDependencies"):
            log.write("no npm dependencies to install", phase="building")
            return None
        lockfile = next(
            (name for name in _LOCKFILES.get(manager, ()) if (app_dir / name).is_file()), None
        )
        # Every lockfile counts, also one of a missing tool that npm stands in for: a changed
        # yarn.lock or pnpm-lock.yaml means changed dependencies, and npm reads yarn.lock.
        lockfiles = [
            name for names in _LOCKFILES.values() for name in names if (app_dir / name).is_file()
        ]
        parts = [manager.encode(), package.read_bytes()]
        parts += [name.encode() + (app_dir / name).read_bytes() for name in lockfiles]
        key = _digest(*parts)
        entry = self.cache_dir / "node" / key
        self._ensure_folder(entry.parent)
        with _locked(self.cache_dir / "node" / f"{key}.lock"):
            if (entry / ".complete").exists():
                log.write(f"dependencies unchanged: reusing node_modules {key}", phase="building")
            else:
                shutil.rmtree(entry, ignore_errors=True)
                entry.mkdir()
                shutil.copyfile(package, entry / "package.json")
                for name in lockfiles:
                    shutil.copyfile(app_dir / name, entry / name)
                hand_over(entry, self.run_as)
                # Dev dependencies always: the build step needs them (tsc, vite) even when
                # build_env sets NODE_ENV=production, and the cache entry, keyed by the files
                # only, must hold the same packages whatever the environment was.
                command = {
                    "npm": ("npm ci" if lockfile else "npm install") + " --include=dev",
                    "pnpm": "pnpm install --frozen-lockfile --prod=false",
                    "yarn": "yarn install --frozen-lockfile --production=false",
                }[manager]
                self._step(command, entry, env, log, cancelled)
                (entry / ".complete").touch()
        link = app_dir / "node_modules"
        if link.exists() or link.is_symlink():
            shutil.rmtree(link, ignore_errors=True)
        link.symlink_to(entry / "node_modules", target_is_directory=True)
        return entry

    @staticmethod
    def _static_root(app_dir: Path, pages_before: dict[Path, int] | None) -> Path:
        """The folder to serve: after a build (`pages_before`: the index.html files before
        it), the shallowest folder where it wrote one (whatever its output folder is called),
        else a usual output folder; without a build, the root's index.html first."""
        if pages_before is not None:
            written = [
                page.parent
                for page, stamp in _pages(app_dir).items()
                if pages_before.get(page) != stamp
            ]
            if written:
                return min(written, key=lambda folder: (len(folder.parts), str(folder)))
            for name in _STATIC_OUTPUTS:
                if (app_dir / name / "index.html").is_file():
                    return app_dir / name
        if (app_dir / "index.html").is_file():
            return app_dir
        for name in _STATIC_OUTPUTS:
            if (app_dir / name).is_dir():
                return app_dir / name
        return app_dir
