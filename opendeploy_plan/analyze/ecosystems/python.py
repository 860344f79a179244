"""Python: pyproject.toml, requirements*.txt, Pipfile, setup.py.

Frameworks: Django, Flask, FastAPI, Starlette, Celery workers and plain scripts.
"""

from __future__ import annotations

import re
from typing import Any, Final

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, join, relative_to
from opendeploy_plan.analyze.signals import (
    MAX_SCANNED_FILE_BYTES,
    code_files,
    command_port_candidates,
    databases_from_packages,
    default_port,
    grep_first,
    line_of,
    parse_procfile,
    scan_ports,
)

_REQUIREMENT_NAME_RE: Final = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")
_PY_PORT_PATTERNS: Final = (
    re.compile(r"['\"]PORT['\"]\s*,\s*['\"]?(\d{2,5})\b"),
    re.compile(r"\bPORT\s*=\s*int\([^)]*?(\d{2,5})"),
    re.compile(r"\b(?:run_app|serve|launch|run)\([^()]{0,200}?\bport\s*=\s*(\d{2,5})\b"),
    re.compile(r"(?:HTTPServer|TCPServer)\(\s*\(\s*['\"][^'\"]*['\"]\s*,\s*(\d{2,5})\s*\)"),
)
_APP_RE: Final = {
    "fastapi": re.compile(r"^(\w+)\s*(?::\s*\w+\s*)?=\s*(?:FastAPI|create_app)\(", re.M),
    "starlette": re.compile(r"^(\w+)\s*(?::\s*\w+\s*)?=\s*Starlette\(", re.M),
    "flask": re.compile(r"^(\w+)\s*(?::\s*\w+\s*)?=\s*(?:Flask|create_app)\(", re.M),
}


def _requirement_names(lines: list[str]) -> list[str]:
    names: list[str] = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith(("-", "git+", "http")):
            continue
        match = _REQUIREMENT_NAME_RE.match(line)
        if match:
            names.append(match.group(1) + (match.group(2) or ""))
    return names


def python_dependencies(view: RepoView, folder: str) -> tuple[dict[str, str], list[str]]:
    """Declared distribution names (lower-case -> as written) and the files that declared them."""
    names: list[str] = []
    files: list[str] = []
    pyproject_rel = join(folder, "pyproject.toml")
    pyproject = view.toml(pyproject_rel) or {}
    project = pyproject.get("project")
    if isinstance(project, dict):
        deps = project.get("dependencies")
        if isinstance(deps, list):
            names += _requirement_names([str(d) for d in deps])
            files.append(pyproject_rel)
    poetry = _table(pyproject, "tool", "poetry")
    for key in ("dependencies", "dev-dependencies"):
        section = poetry.get(key)
        if isinstance(section, dict):
            names += [str(n) for n in section if str(n).lower() != "python"]
            files.append(pyproject_rel)
    for rel in sorted(
        view.glob(folder, "requirements*.txt") + view.glob(folder, "requirements/*.txt")
    ):
        text = view.read(rel) or ""
        names += _requirement_names(text.splitlines())
        files.append(rel)
    pipfile = join(folder, "Pipfile")
    pip_data = view.toml(pipfile)
    if pip_data:
        for key in ("packages", "dev-packages"):
            section = pip_data.get(key)
            if isinstance(section, dict):
                names += [str(n) for n in section]
        files.append(pipfile)
    setup_py = join(folder, "setup.py")
    setup_text = view.read(setup_py)
    if setup_text:
        match = re.search(r"install_requires\s*=\s*\[([^\]]*)\]", setup_text, re.S)
        if match:
            names += _requirement_names(re.findall(r"['\"]([^'\"]+)['\"]", match.group(1)))
            files.append(setup_py)
    lowered: dict[str, str] = {}
    for name in names:
        lowered.setdefault(name.lower().replace("_", "-"), name)
        base = name.lower().replace("_", "-").split("[", 1)[0]
        lowered.setdefault(base, name)
    return lowered, list(dict.fromkeys(files))


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    current: Any = data
    for key in keys:
        current = current.get(key) if isinstance(current, dict) else None
    return current if isinstance(current, dict) else {}


def python_package_manager(view: RepoView, folder: str) -> Fact | None:
    pyproject_rel = join(folder, "pyproject.toml")
    pyproject = view.toml(pyproject_rel) or {}
    checks: tuple[tuple[str, str], ...] = (
        ("uv.lock", "uv"),
        ("poetry.lock", "poetry"),
        ("Pipfile.lock", "pipenv"),
        ("Pipfile", "pipenv"),
        ("pdm.lock", "pdm"),
    )
    for name, manager in checks:
        rel = join(folder, name)
        if view.exists(rel):
            return Fact(manager, rel, f"{name} present")
    for tool, manager in (("poetry", "poetry"), ("pdm", "pdm"), ("uv", "uv")):
        if _table(pyproject, "tool", tool):
            return Fact(manager, pyproject_rel, f"[tool.{tool}] in pyproject.toml")
    if view.glob(folder, "requirements*.txt"):
        rel = sorted(view.glob(folder, "requirements*.txt"))[0]
        return Fact("pip", rel, "requirements file")
    if view.exists(pyproject_rel) or view.exists(join(folder, "setup.py")):
        present = pyproject_rel if view.exists(pyproject_rel) else join(folder, "setup.py")
        return Fact("pip", present, "standard Python packaging")
    pin = python_version_pin(view, folder)
    if pin is not None:
        return Fact("pip", pin.file, pin.reason, "medium")
    return None


def python_version_pin(view: RepoView, folder: str) -> Fact | None:
    """A Python version pin (`.python-version`, `runtime.txt`, `.tool-versions`): the app is
    Python even without a dependency file (a script using only the standard library)."""
    rel = join(folder, ".python-version")
    if view.exists(rel):
        return Fact((view.read(rel) or "").strip(), rel, ".python-version pins Python")
    rel = join(folder, "runtime.txt")
    match = re.search(r"python-(\d[\w.]*)", view.read(rel) or "")
    if match:
        return Fact(match.group(1), rel, "runtime.txt pins Python")
    rel = join(folder, ".tool-versions")
    match = re.search(r"^python\s+(\S+)", view.read(rel) or "", re.M)
    if match:
        return Fact(match.group(1), rel, ".tool-versions pins Python")
    return None


def _module_of(folder: str, rel: str) -> str:
    inner = relative_to(folder, rel)
    if inner.startswith("src/"):
        inner = inner[4:]
    return inner.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


# (distribution, framework, default port, why): frameworks that run through their own runner
# (`python app.py`, `streamlit run app.py`) rather than a WSGI/ASGI server.
_RUNNER_FRAMEWORKS: Final = (
    ("python-fasthtml", "fasthtml", 5001, "FastHTML's serve() binds 5001"),
    ("streamlit", "streamlit", 8501, "streamlit serves on 8501"),
    ("gradio", "gradio", 7860, "gradio serves on 7860"),
    ("dash", "dash", 8050, "Dash serves on 8050"),
    ("web.py", "web.py", 8080, "web.py serves on 8080"),
    ("sanic", "sanic", 8000, "Sanic serves on 8000"),
    ("aiohttp", "aiohttp", 8080, "aiohttp's run_app binds 8080"),
    ("tornado", "tornado", 8888, "Tornado's documented examples bind 8888"),
    ("bottle", "bottle", 8080, "Bottle binds 8080"),
    ("quart", "quart", 5000, "Quart binds 5000"),
    ("nicegui", "nicegui", 8080, "NiceGUI serves on 8080"),
    ("panel", "panel", 5006, "Panel serves on 5006"),
)
_ENTRY_NAMES: Final = (
    "main.py",
    "app.py",
    "server.py",
    "run.py",
    "bot.py",
    "worker.py",
    "consumer.py",
    "start.py",
    "index.py",
    "wsgi.py",
    "asgi.py",
    "__main__.py",
)
_ANY_APP_RE: Final = re.compile(r"^(app|application|api)\s*(?::\s*\w+\s*)?=\s*[\w.]+\(", re.M)
_DB_URL_RE: Final = re.compile(r"[\"'](postgres(?:ql)?|mysql|mariadb)(?:\+\w+)?://")
_DJANGO_ENGINE_RE: Final = re.compile(r"django\.db\.backends\.(postgresql|postgis|mysql)")


def detect_python(view: RepoView, folder: str) -> Detection | None:
    manager = python_package_manager(view, folder)
    manage_py = view.first_existing(folder, "manage.py")
    if manager is None and manage_py is None:
        return None
    deps, dep_files = python_dependencies(view, folder)
    evidence_file = dep_files[0] if dep_files else (manager.file if manager else str(manage_py))
    detection = Detection(
        language=Fact(
            "python",
            manager.file if manager else str(manage_py),
            manager.reason if manager and manager.confidence != "high" else "Python packaging",
        ),
        package_manager=manager,
    )
    files = code_files(view, folder, (".py",))
    run = f"{manager.value} run " if manager and manager.value in ("poetry", "uv", "pdm") else ""
    if manager and manager.value == "pipenv":
        run = "pipenv run "
    if "django" in deps or manage_py:
        _django(view, folder, detection, files, deps, evidence_file, manage_py, run)
    else:
        _asgi_wsgi(view, folder, detection, files, deps, evidence_file, run)
    if detection.framework is None:
        _runner_framework(view, folder, detection, files, deps, evidence_file, run)
    procfile = view.first_existing(folder, "Procfile")
    processes = parse_procfile(view, procfile) if procfile else {}
    if procfile and "web" in processes:
        detection.start_command = Fact(processes["web"], procfile, "Procfile web process")
        detection.ports.extend(command_port_candidates(detection.start_command))
    if detection.framework is None:
        _plain_python(view, folder, detection, files, deps, run)
    detection.ports.extend(scan_ports(view, files, _PY_PORT_PATTERNS, "code"))
    detection.databases.extend(databases_from_packages(deps, evidence_file))
    _databases_in_code(view, files, detection)
    return detection


def _django(
    view: RepoView,
    folder: str,
    detection: Detection,
    files: list[str],
    deps: dict[str, str],
    evidence_file: str,
    manage_py: str | None,
    run: str,
) -> None:
    detection.framework = Fact(
        "django",
        evidence_file if "django" in deps else str(manage_py),
        f"depends on {deps['django']}" if "django" in deps else "manage.py present",
    )
    if manage_py is None:
        # The Django project one folder down (`requirements.txt` at the root, `src/manage.py`).
        manage_py = next(
            (
                f
                for f in files
                if f.endswith("/manage.py") and relative_to(folder, f).count("/") == 1
            ),
            None,
        )
    project = relative_to(folder, manage_py).rsplit("/", 1)[0] if manage_py else ""
    project = project if manage_py and "/" in relative_to(folder, manage_py) else ""
    wsgi = next((f for f in files if f.endswith("/wsgi.py")), None)
    if "gunicorn" in deps and wsgi:
        module = _module_of(join(folder, project) if project else folder, wsgi)
        chdir = f" --chdir {project}" if project else ""
        detection.start_command = Fact(
            f"{run}gunicorn{chdir} {module}:application --bind 0.0.0.0:8000",
            wsgi,
            "gunicorn in dependencies and a WSGI module",
            "medium",
        )
    elif manage_py:
        detection.start_command = Fact(
            f"{run}python {relative_to(folder, manage_py)} runserver 0.0.0.0:8000",
            manage_py,
            "manage.py present",
            "medium",
        )
        detection.notes.append(
            "runserver is Django's development server; add gunicorn for production"
        )
    detection.ports.append(default_port(8000, detection.framework.file, "Django serves 8000"))


def _asgi_wsgi(
    view: RepoView,
    folder: str,
    detection: Detection,
    files: list[str],
    deps: dict[str, str],
    evidence_file: str,
    run: str,
) -> None:
    for framework, default, server in (
        ("fastapi", 8000, "uvicorn"),
        ("starlette", 8000, "uvicorn"),
        ("flask", 5000, "flask"),
    ):
        if framework not in deps:
            continue
        detection.framework = Fact(framework, evidence_file, f"depends on {deps[framework]}")
        hit = grep_first(view, files, _APP_RE[framework])
        if hit:
            target = f"{_module_of(folder, hit[0])}:{hit[1].group(1)}"
            runner = next(
                (
                    f
                    for f in [hit[0], *(join(folder, n) for n in _ENTRY_NAMES)]
                    if "/" not in relative_to(folder, f) or f == hit[0]
                    if _runs_itself(view.read(f) or "")
                ),
                None,
            )
            if runner is not None:
                # `if __name__ == "__main__": app.run(...)`: the app starts its own server.
                command = f"{run}python {relative_to(folder, runner)}"
            elif server == "uvicorn":
                command = f"{run}uvicorn {target} --host 0.0.0.0 --port 8000"
            elif "gunicorn" in deps:
                command = f"{run}gunicorn {target} --bind 0.0.0.0:5000"
            else:
                command = f"{run}flask --app {target} run --host 0.0.0.0 --port 5000"
            detection.start_command = Fact(
                command, hit[0], f"application object `{hit[1].group(0).strip()}`", "medium"
            )
        if not hit and framework == "flask":
            detection.start_command = Fact(
                f"{run}flask run --host 0.0.0.0 --port 5000",
                evidence_file,
                "Flask finds app.py or wsgi.py itself",
                "low",
            )
        why = "uvicorn's documented port" if server == "uvicorn" else "Flask's default port"
        detection.ports.append(default_port(default, evidence_file, f"{why} is {default}"))
        return


def _runs_itself(text: str) -> bool:
    main = re.search(r"^if\s+__name__\s*==\s*['\"]__main__['\"]\s*:(.*)", text, re.M | re.S)
    return bool(main and re.search(r"\.(?:run|run_app|launch|serve)\(|\bserve\(", main.group(1)))


def _runner_framework(
    view: RepoView,
    folder: str,
    detection: Detection,
    files: list[str],
    deps: dict[str, str],
    evidence_file: str,
    run: str,
) -> None:
    for dist, framework, port, why in _RUNNER_FRAMEWORKS:
        if dist not in deps:
            continue
        detection.framework = Fact(framework, evidence_file, f"depends on {deps[dist]}")
        detection.ports.append(default_port(port, evidence_file, why))
        entry = _entry_file(view, folder, files, prefer_main=True)
        if entry is not None:
            name = relative_to(folder, entry)
            command = (
                f"{run}streamlit run {name}" if framework == "streamlit" else f"{run}python {name}"
            )
            detection.start_command = Fact(command, entry, f"{framework} app file", "medium")
        return


def _entry_file(view: RepoView, folder: str, files: list[str], *, prefer_main: bool) -> str | None:
    """The script a plain `python <file>` would run: a conventional name, preferring one with a
    `__main__` block, else the only top-level script."""
    top = [f for f in files if "/" not in relative_to(folder, f)]
    if not top:
        # No script at the top: the code lives in `src/` or `app/`.
        for sub in ("src", "app", "bot"):
            top = [f for f in files if relative_to(folder, f).startswith(f"{sub}/")]
            top = [f for f in top if relative_to(folder, f).count("/") == 1]
            if top:
                folder = join(folder, sub)
                break
    named = [join(folder, n) for n in _ENTRY_NAMES if join(folder, n) in top]
    with_main = [f for f in named if "__main__" in (view.read(f) or "")]
    if prefer_main and with_main:
        return with_main[0]
    if named:
        return named[0]
    scripts = [f for f in top if "__main__" in (view.read(f) or "") and not f.endswith("setup.py")]
    if len(scripts) == 1:
        return scripts[0]
    candidates = [f for f in top if not f.endswith(("setup.py", "conftest.py"))]
    return candidates[0] if len(candidates) == 1 else None


def _databases_in_code(view: RepoView, files: list[str], detection: Detection) -> None:
    """Django's `ENGINE` and SQLAlchemy URLs name the engine even when the driver is implicit."""
    known = {f.value for f in detection.databases}
    for rel in files:
        text = view.read(rel, MAX_SCANNED_FILE_BYTES) or ""
        for pattern, reason in ((_DJANGO_ENGINE_RE, "Django ENGINE"), (_DB_URL_RE, "database URL")):
            for match in pattern.finditer(text):
                kind = match.group(1)
                db_type = "postgres" if kind.startswith("postg") else "mysql"
                if db_type not in known:
                    known.add(db_type)
                    detection.databases.append(
                        Fact(db_type, line_of(view, rel, match.start()), reason)
                    )


def _plain_python(
    view: RepoView,
    folder: str,
    detection: Detection,
    files: list[str],
    deps: dict[str, str],
    run: str,
) -> None:
    if "celery" in deps:
        hit = grep_first(view, files, re.compile(r"^(\w+)\s*=\s*Celery\(", re.M))
        detection.kind = "worker"
        detection.framework = Fact("celery", hit[0] if hit else folder, "Celery app", "medium")
        if hit and detection.start_command is None:
            module = _module_of(folder, hit[0])
            detection.start_command = Fact(
                f"{run}celery -A {module} worker", hit[0], "Celery application", "medium"
            )
        return
    server = grep_first(
        view, files, re.compile(r"\b(?:HTTPServer|TCPServer|aiohttp\.web|web\.run_app)\b")
    )
    if server:
        detection.framework = Fact("python", server[0], "standard-library HTTP server", "medium")
    wsgi_server = next((s for s in ("uvicorn", "gunicorn", "hypercorn") if s in deps), None)
    if detection.start_command is None and wsgi_server is not None:
        # Litestar, Falcon, Pyramid, BlackSheep, …: an `app` object served by the declared
        # ASGI/WSGI server.
        hit = grep_first(view, files, _ANY_APP_RE)
        if hit is not None:
            target = f"{_module_of(folder, hit[0])}:{hit[1].group(1)}"
            bind = "--bind 0.0.0.0:8000" if wsgi_server != "uvicorn" else "--host 0.0.0.0"
            detection.start_command = Fact(
                f"{run}{wsgi_server} {target} {bind}", hit[0], f"{wsgi_server} serves it", "low"
            )
            detection.framework = Fact(wsgi_server, hit[0], "application object", "low")
    if detection.start_command is None:
        entry = _entry_file(view, folder, files, prefer_main=True)
        if entry is not None:
            detection.start_command = Fact(
                f"{run}python {relative_to(folder, entry)}",
                entry,
                "script with a __main__ block"
                if "__main__" in (view.read(entry) or "")
                else "the app's entry script",
                "medium",
            )
