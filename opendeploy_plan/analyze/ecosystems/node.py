"""Node.js, TypeScript, Bun and Deno: package.json, lockfiles, deno.json and framework configs."""

from __future__ import annotations

import re
from typing import Any, Final

from opendeploy_plan.analyze.model import Detection, Fact, ServiceKind
from opendeploy_plan.analyze.repo import RepoView, join
from opendeploy_plan.analyze.signals import (
    code_files,
    command_port_candidates,
    databases_from_packages,
    default_port,
    grep_first,
    parse_procfile,
    scan_ports,
)

JS_SUFFIXES: Final = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")

_BUN_SERVER_RE: Final = re.compile(r"\bBun\.serve\(|export\s+default\s*\{[^}]*\bfetch\b")
_JS_PORT_PATTERNS: Final = (
    re.compile(r"export\s+default\s*\{[^}]{0,200}?\bport\s*:\s*(\d{2,5})\b"),
    re.compile(r"\.listen\(\s*(\d{2,5})\b"),
    re.compile(r"(?:listen|serve)\(\s*\{[^}]{0,200}?\bport\s*:\s*(\d{2,5})\b"),
    re.compile(r"\bPORT['\"\]]?\s*\)?\s*(?:\|\||\?\?)\s*['\"]?(\d{2,5})\b"),
    re.compile(r"\b(?:const|let|var)\s+port\s*(?::\s*number\s*)?=\s*['\"]?(\d{2,5})\b", re.I),
)

# (dependency, framework, default port or None, kind, why the default)
_FRAMEWORKS: Final[tuple[tuple[str, str, int | None, ServiceKind, str], ...]] = (
    ("next", "nextjs", 3000, "web", "`next start` listens on 3000"),
    ("nuxt", "nuxt", 3000, "web", "Nuxt's server listens on 3000"),
    ("nuxt3", "nuxt", 3000, "web", "Nuxt's server listens on 3000"),
    ("@remix-run/node", "remix", 3000, "web", "`remix-serve` listens on 3000"),
    ("@remix-run/serve", "remix", 3000, "web", "`remix-serve` listens on 3000"),
    ("@remix-run/react", "remix", 3000, "web", "`remix-serve` listens on 3000"),
    ("@sveltejs/kit", "sveltekit", 3000, "web", "adapter-node listens on 3000"),
    ("astro", "astro", 4321, "web", "Astro's node adapter listens on 4321"),
    ("@nestjs/core", "nestjs", 3000, "web", "the Nest CLI template listens on 3000"),
    ("@tanstack/react-start", "tanstack-start", 3000, "web", "the Nitro server listens on 3000"),
    ("@tanstack/solid-start", "tanstack-start", 3000, "web", "the Nitro server listens on 3000"),
    ("@tanstack/start", "tanstack-start", 3000, "web", "the Nitro server listens on 3000"),
    ("@react-router/serve", "react-router", 3000, "web", "react-router-serve listens on 3000"),
    ("@react-router/node", "react-router", 3000, "web", "react-router-serve listens on 3000"),
    ("@solidjs/start", "solid-start", 3000, "web", "the Nitro server listens on 3000"),
    ("@angular/core", "angular", None, "static", "an Angular build is static files"),
    ("@vue/cli-service", "vue", None, "static", "a Vue CLI build is static files"),
    ("react-scripts", "create-react-app", None, "static", "a CRA build is static files"),
    ("hono", "hono", 3000, "web", "@hono/node-server listens on 3000"),
    ("fastify", "fastify", 3000, "web", "Fastify's documented default is 3000"),
    ("koa", "koa", 3000, "web", "Koa apps conventionally listen on 3000"),
    ("express", "express", 3000, "web", "Express apps conventionally listen on 3000"),
    ("vite", "vite", None, "static", "a Vite build is static files"),
)


_FRAMEWORK_CONFIGS: Final = (
    ("next.config.*", "nextjs"),
    ("nuxt.config.*", "nuxt"),
    ("remix.config.*", "remix"),
    ("svelte.config.*", "sveltekit"),
    ("astro.config.*", "astro"),
    ("angular.json", "angular"),
    ("nest-cli.json", "nestjs"),
    ("vite.config.*", "vite"),
)


def _deps(package: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        section = package.get(key)
        if isinstance(section, dict):
            for name in section:
                names.setdefault(str(name).lower(), str(name))
    return names


def _scripts(package: dict[str, Any]) -> dict[str, str]:
    section = package.get("scripts")
    if not isinstance(section, dict):
        return {}
    return {str(k): str(v) for k, v in section.items() if isinstance(v, str)}


def node_package_manager(view: RepoView, folder: str) -> Fact:
    """From the nearest lockfile (the folder, then its parents: workspaces keep it at the root)."""
    lockfiles = (
        ("pnpm-lock.yaml", "pnpm"),
        ("bun.lockb", "bun"),
        ("bun.lock", "bun"),
        ("yarn.lock", "yarn"),
        ("package-lock.json", "npm"),
        ("npm-shrinkwrap.json", "npm"),
    )
    current = folder
    while True:
        for name, manager in lockfiles:
            rel = join(current, name)
            if view.exists(rel):
                return Fact(manager, rel, f"lockfile {name}")
        package = view.json(join(current, "package.json")) or {}
        declared = package.get("packageManager")
        if isinstance(declared, str) and declared:
            manager = declared.split("@", 1)[0]
            return Fact(manager, join(current, "package.json"), f"packageManager {declared}")
        if current in ("", "."):
            break
        current = current.rsplit("/", 1)[0] if "/" in current else "."
    return Fact("npm", join(folder, "package.json"), "no lockfile; npm assumed", "low")


def run_script(manager: str, script: str) -> str:
    if script == "start" and manager in ("npm", "yarn", "pnpm"):
        return f"{manager} start"
    if manager == "yarn":
        return f"yarn {script}"
    return f"{manager} run {script}"


def read_package(view: RepoView, folder: str) -> tuple[str, dict[str, Any]] | None:
    """The folder's package manifest: `package.json`, or pnpm's `package.json5`/`package.yaml`."""
    rel = join(folder, "package.json")
    if view.exists(rel):
        data = view.json(rel)
        return (rel, data) if data is not None else None
    rel = join(folder, "package.json5")
    if view.exists(rel):
        data = view.json5(rel)
        return (rel, data) if data is not None else None
    rel = join(folder, "package.yaml")
    loaded = view.yaml(rel) if view.exists(rel) else None
    # Haskell's hpack also writes package.yaml, with a list of dependencies.
    if isinstance(loaded, dict) and (
        isinstance(loaded.get("dependencies"), dict) or isinstance(loaded.get("scripts"), dict)
    ):
        return rel, loaded
    return None


def detect_node(view: RepoView, folder: str) -> Detection | None:
    found = read_package(view, folder)
    if found is None:
        return None
    package_rel, package = found
    deps = _deps(package)
    scripts = _scripts(package)
    entry_text = " ".join([scripts.get("start", ""), str(package.get("main", ""))])
    typescript = (
        view.exists(join(folder, "tsconfig.json"))
        or any(d in deps for d in ("typescript", "@types/bun", "bun-types"))
        or bool(re.search(r"\.m?tsx?\b", entry_text))
    )
    language = Fact(
        "typescript" if typescript else "javascript",
        join(folder, "tsconfig.json")
        if view.exists(join(folder, "tsconfig.json"))
        else package_rel,
        "TypeScript (tsconfig.json, a dependency or a .ts entry)"
        if typescript
        else "package.json without TypeScript",
    )
    manager = node_package_manager(view, folder)
    detection = Detection(language=language, package_manager=manager)
    files = code_files(view, folder, JS_SUFFIXES)

    framework_default: tuple[int | None, str] = (None, "")
    for dep, name, port, kind, why in _FRAMEWORKS:
        if dep in deps:
            detection.framework = Fact(name, package_rel, f"depends on {deps[dep]}")
            detection.kind = kind
            framework_default = (port, why)
            break
    if detection.framework is None:
        # A framework config without the dependency (hoisted in a monorepo, or installed
        # globally): the config file is the evidence, at medium confidence.
        for pattern, name in _FRAMEWORK_CONFIGS:
            config = next(iter(sorted(view.glob(folder, pattern))), None)
            if config is not None and "/" not in config[len(join(folder, "")) :]:
                detection.framework = Fact(name, config, f"{pattern} present", "medium")
                for _dep, framework, port, kind, why in _FRAMEWORKS:
                    if framework == name:
                        detection.kind = kind
                        framework_default = (port, why)
                        break
                break
    is_bun = manager.value == "bun" or "bun-types" in deps or "@types/bun" in deps
    if detection.framework is None:
        if is_bun and (hit := grep_first(view, files, _BUN_SERVER_RE)):
            detection.framework = Fact("bun", hit[0], "Bun.serve", "medium")
            framework_default = (3000, "Bun.serve listens on 3000 by default")
        elif hit := grep_first(view, files, re.compile(r"\b(?:http|https)\.createServer\(")):
            detection.framework = Fact("node", hit[0], "node:http createServer", "medium")

    _refine_kind(view, folder, detection, deps, scripts)
    _commands(view, folder, detection, package, scripts)

    detection.ports.extend(command_port_candidates(detection.start_command))
    detection.ports.extend(scan_ports(view, files, _JS_PORT_PATTERNS, "code"))
    port, why = framework_default
    if detection.kind == "web" and port is not None and detection.framework is not None:
        detection.ports.append(default_port(port, detection.framework.file, why))
    detection.databases.extend(databases_from_packages(deps, package_rel))
    for fact in prisma_databases(view, folder):
        if all(d.value != fact.value for d in detection.databases):
            detection.databases.append(fact)
    return detection


_PRISMA_PROVIDER_RE: Final = re.compile(
    r"datasource\s+\w+\s*\{[^}]*?provider\s*=\s*\"(\w+)\"", re.S
)
_PRISMA_ENGINES: Final = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "cockroachdb": "postgres",
    "mysql": "mysql",
    "mongodb": "mongodb",
}


def prisma_databases(view: RepoView, folder: str) -> list[Fact]:
    """The engine a Prisma schema's `datasource` names (`provider = "postgresql"`)."""
    for rel in sorted(view.glob(folder, "*.prisma")):
        match = _PRISMA_PROVIDER_RE.search(view.read(rel) or "")
        if match and match.group(1) in _PRISMA_ENGINES:
            return [Fact(_PRISMA_ENGINES[match.group(1)], rel, f'provider = "{match.group(1)}"')]
    return []


def _refine_kind(
    view: RepoView,
    folder: str,
    detection: Detection,
    deps: dict[str, str],
    scripts: dict[str, str],
) -> None:
    framework = detection.framework.value if detection.framework else None
    start = scripts.get("start", "")
    if framework == "nextjs":
        config = next(
            (
                rel
                for name in ("next.config.js", "next.config.mjs", "next.config.ts")
                if view.exists(rel := join(folder, name))
            ),
            None,
        )
        text = view.read(config) if config else None
        if config and text and re.search(r"output\s*:\s*['\"]export['\"]", text):
            detection.kind = "static"
            detection.output_directory = "out"
            detection.notes.append(f"{config} sets output: 'export' (a static site in out/)")
    elif framework == "astro":
        adapters = [d for d in deps if d.startswith("@astrojs/") and d.split("/")[1] in _ADAPTERS]
        if not adapters:
            detection.kind = "static"
            detection.output_directory = "dist"
    elif framework == "sveltekit":
        if "@sveltejs/adapter-static" in deps:
            detection.kind = "static"
            detection.output_directory = "build"
    elif framework in ("vite", "create-react-app", "angular"):
        detection.output_directory = {"vite": "dist", "create-react-app": "build"}.get(
            framework, "dist"
        )
        # A start script that serves the build makes it a web service after all.
        if "vite preview" in start:
            detection.kind = "web"
            detection.ports.append(
                default_port(4173, join(folder, "package.json"), "`vite preview` serves on 4173")
            )
        elif re.search(r"\bserve\b.*\s-s\b", start):
            detection.kind = "web"
            detection.ports.append(
                default_port(3000, join(folder, "package.json"), "`serve -s` listens on 3000")
            )


_ADAPTERS: Final = frozenset({"node", "vercel", "netlify", "cloudflare", "deno"})


def _commands(
    view: RepoView,
    folder: str,
    detection: Detection,
    package: dict[str, Any],
    scripts: dict[str, str],
) -> None:
    found = read_package(view, folder)
    package_rel = found[0] if found else join(folder, "package.json")
    manager = detection.package_manager.value if detection.package_manager else "npm"
    if "build" in scripts:
        detection.build_command = Fact(
            run_script(manager, "build"), package_rel, f"scripts.build: {scripts['build']}"
        )
    procfile = view.first_existing(folder, "Procfile")
    web = parse_procfile(view, procfile).get("web") if procfile else None
    if procfile and web:
        detection.start_command = Fact(web, procfile, "Procfile web process")
    elif "start:prod" in scripts or "start" in scripts:
        script = "start:prod" if "start:prod" in scripts else "start"
        detection.start_command = Fact(
            run_script(manager, script), package_rel, f"scripts.{script}: {scripts[script]}"
        )
        # The script body is where ports and flags live; check it as well.
        detection.ports.extend(
            command_port_candidates(Fact(scripts[script], package_rel, f"scripts.{script}"))
        )
    elif detection.kind == "web" and (server := _framework_server(detection, package)):
        detection.start_command = Fact(server[0], package_rel, server[1], "medium")
    elif isinstance(package.get("main"), str) and not package.get("workspaces"):
        main = str(package["main"])
        detection.start_command = Fact(f"node {main}", package_rel, "package.json main", "medium")
    elif detection.kind == "web":
        for name in ("server.js", "index.js", "app.js", "main.js"):
            if view.exists(join(folder, name)):
                detection.start_command = Fact(
                    f"node {name}", join(folder, name), "conventional entry file", "low"
                )
                break
    if detection.start_command is None and detection.kind == "web" and "dev" in scripts:
        detection.notes.append(
            "package.json has only a dev script; a production start command was not found"
        )


# The production server a framework's build produces, for packages without a start script.
_BUILT_SERVERS: Final = {
    "nuxt": ("node .output/server/index.mjs", "Nuxt builds a Nitro server"),
    "tanstack-start": ("node .output/server/index.mjs", "TanStack Start builds a Nitro server"),
    "solid-start": ("node .output/server/index.mjs", "SolidStart builds a Nitro server"),
    "sveltekit": ("node build", "adapter-node builds a server into build/"),
    "astro": ("node ./dist/server/entry.mjs", "the node adapter's standalone server"),
    "remix": ("npx remix-serve ./build/server/index.js", "Remix's production server"),
    "react-router": ("npx react-router-serve ./build/server/index.js", "React Router's server"),
    "nextjs": ("npx next start", "Next.js's production server"),
}


def _framework_server(detection: Detection, package: dict[str, Any]) -> tuple[str, str] | None:
    framework = detection.framework.value if detection.framework else None
    return _BUILT_SERVERS.get(framework or "")


_DENO_PORT_PATTERNS: Final = (
    re.compile(r"Deno\.serve\(\s*\{[^}]{0,200}?\bport\s*:\s*(\d{2,5})\b"),
    re.compile(r"\blisten\(\s*\{[^}]{0,100}?\bport\s*:\s*(\d{2,5})\b"),
    re.compile(r"\bPORT['\"]\)\s*(?:\|\||\?\?)\s*['\"]?(\d{2,5})\b"),
)


def detect_deno(view: RepoView, folder: str) -> Detection | None:
    """Deno (deno.json, deno.jsonc, Fresh): its own runtime and language entry, not Node."""
    config = view.first_existing(folder, "deno.json", "deno.jsonc")
    if config is None:
        return None
    data = view.json5(config) or {}
    detection = Detection(
        language=Fact("deno", config, "Deno configuration"),
        package_manager=Fact("deno", config, f"{config.rsplit('/', 1)[-1]} present"),
    )
    text = view.read(config) or ""
    if "$fresh/" in text or "@fresh/" in text:
        detection.framework = Fact("fresh", config, "imports Fresh")
    elif "hono" in text:
        detection.framework = Fact("hono", config, "imports Hono")
    elif "oak" in text:
        detection.framework = Fact("oak", config, "imports Oak")
    raw_tasks = data.get("tasks")
    tasks = (
        {str(k): str(v) for k, v in raw_tasks.items() if isinstance(v, str)}
        if isinstance(raw_tasks, dict)
        else {}
    )
    if "start" in tasks:
        detection.start_command = Fact("deno task start", config, f"tasks.start: {tasks['start']}")
        detection.ports.extend(command_port_candidates(Fact(tasks["start"], config, "task")))
    elif (entry := view.first_existing(folder, "main.ts", "server.ts", "mod.ts")) is not None:
        detection.start_command = Fact(
            f"deno run --allow-net --allow-env --allow-read {entry.rsplit('/', 1)[-1]}",
            entry,
            "conventional entry file",
            "medium",
        )
    if "build" in tasks:
        detection.build_command = Fact("deno task build", config, f"tasks.build: {tasks['build']}")
    files = code_files(view, folder, (".ts", ".tsx", ".js"))
    detection.ports.extend(scan_ports(view, files, _DENO_PORT_PATTERNS, "code"))
    server = grep_first(view, files, re.compile(r"\bDeno\.serve\(|\.listen\(|\bserve\("))
    if detection.framework is None and server is not None:
        detection.framework = Fact("deno", server[0], "Deno.serve", "medium")
    if detection.framework is not None:
        detection.ports.append(default_port(8000, config, "Deno.serve listens on 8000 by default"))
    elif not detection.ports:
        detection.kind = "worker"
    return detection
