"""Python: pyproject.toml, requirements*.txt, Pipfile, setup.py.

Frameworks: Django, Flask, FastAPI, Starlette, Celery workers and plain scripts.
"""

from __future__ import annotations

import re
from typing import Any, Final

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, join, relative_to
from opendeploy_plan.analyze.signals import (
    code_files,
    command_port_candidates,
    databases_from_packages,
    default_port,
    grep_first,
    parse_procfile,
    scan_ports,
)

_REQUIREMENT_NAME_RE: Final = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")
_PY_PORT_PATTERNS: Final = (
    re.compile(r"\.run\([^)]{0,200}?\bport\s*=\s*(\d{2,5})\b"),
    re.compile(r"['\"]PORT['\"]\s*,\s*['\"]?(\d{2,5})\b"),
    re.compile(r"\bPORT\s*=\s*int\([^)]*?(\d{2,5})"),
    re.compile(r"(?:HTTPServer|TCPServer)\(\s*\(\s*['\"][^'\"]*['\"]\s*,\s*(\d{2,5})\s*\)"),
)
_APP_RE: Final = {
    "fastapi": re.compile(r"^(\w+)\s*(?::\s*\w+\s*)?=\s*FastAPI\(", re.M),
    "starlette": re.compile(r"^(\w+)\s*(?::\s*\w+\s*)?=\s*Starlette\(", re.M),
    "flask": re.compile(r"^(\w+)\s*(?::\s*\w+\s*)?=\s*Flask\(", re.M),
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
    return None


def _module_of(folder: str, rel: str) -> str:
    inner = relative_to(folder, rel)
    if inner.startswith("src/"):
        inner = inner[4:]
    return inner.removesuffix(".py").replace("/", ".")


def detect_python(view: RepoView, folder: str) -> Detection | None:
    manager = python_package_manager(view, folder)
    manage_py = view.first_existing(folder, "manage.py")
    if manager is None and manage_py is None:
        return None
    deps, dep_files = python_dependencies(view, folder)
    evidence_file = dep_files[0] if dep_files else (manager.file if manager else str(manage_py))
    detection = Detection(
        language=Fact("python", manager.file if manager else str(manage_py), "Python packaging"),
        package_manager=manager,
    )
    files = code_files(view, folder, (".py",))
    run = f"{manager.value} run " if manager and manager.value in ("poetry", "uv", "pdm") else ""
    if manager and manager.value == "pipenv":
        run = "pipenv run "
    gunicorn = "gunicorn" in deps
    if "django" in deps or manage_py:
        detection.framework = Fact(
            "django",
            evidence_file if "django" in deps else str(manage_py),
            f"depends on {deps['django']}" if "django" in deps else "manage.py present",
        )
        wsgi = next((f for f in files if f.endswith("/wsgi.py")), None)
        if gunicorn and wsgi:
            module = _module_of(folder, wsgi)
            detection.start_command = Fact(
                f"{run}gunicorn {module}:application --bind 0.0.0.0:8000",
                wsgi,
                "gunicorn in dependencies and a WSGI module",
                "medium",
            )
        elif manage_py:
            detection.start_command = Fact(
                f"{run}python manage.py runserver 0.0.0.0:8000",
                manage_py,
                "manage.py present",
                "medium",
            )
            detection.notes.append(
                "runserver is Django's development server; add gunicorn for production"
            )
        detection.ports.append(default_port(8000, detection.framework.file, "Django serves 8000"))
    else:
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
                if server == "uvicorn":
                    command = f"{run}uvicorn {target} --host 0.0.0.0 --port 8000"
                elif gunicorn:
                    command = f"{run}gunicorn {target} --bind 0.0.0.0:5000"
                else:
                    command = f"{run}flask --app {target} run --host 0.0.0.0 --port 5000"
                detection.start_command = Fact(
                    command, hit[0], f"application object `{hit[1].group(0).strip()}`", "medium"
                )
            why = "uvicorn's documented port" if server == "uvicorn" else "Flask's default port"
            detection.ports.append(default_port(default, evidence_file, f"{why} is {default}"))
            break
    procfile = view.first_existing(folder, "Procfile")
    processes = parse_procfile(view, procfile) if procfile else {}
    if procfile and "web" in processes:
        detection.start_command = Fact(processes["web"], procfile, "Procfile web process")
        detection.ports.extend(command_port_candidates(detection.start_command))
    if detection.framework is None:
        _plain_python(view, folder, detection, files, deps, run)
    detection.ports.extend(scan_ports(view, files, _PY_PORT_PATTERNS, "code"))
    detection.databases.extend(databases_from_packages(deps, evidence_file))
    return detection


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
    if detection.start_command is None:
        for name in ("main.py", "app.py", "server.py", "run.py", "bot.py", "worker.py"):
            rel = join(folder, name)
            text = view.read(rel)
            if text and "__main__" in text:
                detection.start_command = Fact(
                    f"{run}python {name}", rel, "script with a __main__ block", "medium"
                )
                break
