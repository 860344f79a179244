"""Ruby (Gemfile: Rails, Sinatra, Rack) and PHP (composer.json: Laravel, Symfony, plain)."""

from __future__ import annotations

import re
from typing import Final

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, join, relative_to
from opendeploy_plan.analyze.signals import (
    MAX_SCANNED_FILE_BYTES,
    code_files,
    command_port_candidates,
    databases_from_packages,
    default_port,
    line_of,
    parse_procfile,
    scan_ports,
)

_GEM_RE: Final = re.compile(r"^\s*gem\s+['\"]([^'\"]+)['\"]", re.M)
_RUBY_PORT_PATTERNS: Final = (
    re.compile(r"set\s+:port\s*,\s*(\d{2,5})"),
    re.compile(r"\bport\s+ENV\.fetch\(['\"]PORT['\"]\)\s*\{\s*(\d{2,5})\s*\}"),
    re.compile(r"ENV\.fetch\(['\"]PORT['\"]\s*,\s*['\"]?(\d{2,5})"),
)
_PHP_PORT_PATTERNS: Final = (re.compile(r"php\s+-S\s+[\w.]*:(\d{2,5})"),)


def gems(view: RepoView, folder: str) -> dict[str, str]:
    text = view.read(join(folder, "Gemfile")) or ""
    return {name.lower(): name for name in _GEM_RE.findall(text)}


def detect_ruby(view: RepoView, folder: str) -> Detection | None:
    gemfile = view.first_existing(folder, "Gemfile")
    if gemfile is None:
        return None
    names = gems(view, folder)
    if "jekyll" in names:
        return None  # a Jekyll site is static; the static detector owns it
    detection = Detection(
        language=Fact("ruby", gemfile, "Gemfile present"),
        package_manager=Fact("bundler", gemfile, "Gemfile present"),
    )
    if "rails" in names or "railties" in names:
        detection.framework = Fact("rails", gemfile, "gem 'rails'")
        detection.start_command = Fact(
            "bundle exec rails server -b 0.0.0.0", gemfile, "Rails server", "medium"
        )
        if view.first_existing(folder, "app/assets/config/manifest.js") or names.get("propshaft"):
            detection.build_command = Fact(
                "bundle exec rails assets:precompile", gemfile, "Rails asset pipeline", "medium"
            )
        detection.ports.append(default_port(3000, gemfile, "`rails server` listens on 3000"))
    elif "sinatra" in names:
        detection.framework = Fact("sinatra", gemfile, "gem 'sinatra'")
        entry = view.first_existing(folder, "app.rb", "server.rb", "main.rb")
        if view.exists(join(folder, "config.ru")):
            detection.start_command = Fact(
                "bundle exec rackup --host 0.0.0.0 -p 4567",
                join(folder, "config.ru"),
                "config.ru",
                "medium",
            )
        elif entry:
            name = entry.rsplit("/", 1)[-1]
            detection.start_command = Fact(
                f"bundle exec ruby {name} -o 0.0.0.0", entry, "Sinatra app file", "medium"
            )
        detection.ports.append(default_port(4567, gemfile, "Sinatra listens on 4567"))
    elif view.exists(join(folder, "config.ru")):
        detection.framework = Fact("rack", join(folder, "config.ru"), "config.ru present")
        detection.start_command = Fact(
            "bundle exec rackup --host 0.0.0.0", join(folder, "config.ru"), "config.ru", "medium"
        )
        detection.ports.append(
            default_port(9292, join(folder, "config.ru"), "rackup listens on 9292")
        )
    procfile = view.first_existing(folder, "Procfile")
    web = parse_procfile(view, procfile).get("web") if procfile else None
    if procfile and web:
        detection.start_command = Fact(web, procfile, "Procfile web process")
        detection.ports.extend(command_port_candidates(detection.start_command))
    if detection.framework is None and detection.start_command is None:
        entry = view.first_existing(
            folder, "main.rb", "app.rb", "worker.rb", "bot.rb", "run.rb", "server.rb"
        )
        if entry is not None:
            detection.start_command = Fact(
                f"bundle exec ruby {entry.rsplit('/', 1)[-1]}", entry, "Ruby entry script", "medium"
            )
    files = code_files(view, folder, (".rb", ".ru"))
    detection.ports.extend(scan_ports(view, files, _RUBY_PORT_PATTERNS, "code"))
    normalized = {("pg-gem" if n == "pg" else n): v for n, v in names.items()}
    detection.databases.extend(databases_from_packages(normalized, gemfile))
    database_yml = join(folder, "config/database.yml")
    adapter = re.search(r"^\s*adapter:\s*['\"]?(\w+)", view.read(database_yml) or "", re.M)
    name = adapter.group(1) if adapter else ""
    engine = _RAILS_ADAPTERS.get(name)
    if engine and all(d.value != engine for d in detection.databases):
        detection.databases.append(Fact(engine, database_yml, f"adapter: {name}"))
    return detection


_RAILS_ADAPTERS: Final = {
    "postgresql": "postgres",
    "postgis": "postgres",
    "mysql2": "mysql",
    "trilogy": "mysql",
    "mysql": "mysql",
}
# PDO DSNs and the native client functions in plain PHP name the engine.
_PHP_DB_RE: Final = (
    (re.compile(r"[\"']pgsql:|\bpg_connect\("), "postgres"),
    (re.compile(r"[\"']mysql:|\bmysqli_connect\(|\bnew\s+mysqli\("), "mysql"),
    (re.compile(r"\bMongoDB\\\\?Client\b"), "mongodb"),
    (re.compile(r"\bnew\s+(?:\\\\)?Redis\(|Predis\\\\Client"), "redis"),
)


def detect_php(view: RepoView, folder: str) -> Detection | None:
    composer_rel = join(folder, "composer.json")
    composer = view.json(composer_rel)
    index = view.first_existing(folder, "index.php", "public/index.php")
    if composer is None and index is None:
        return None
    require: dict[str, str] = {}
    for key in ("require", "require-dev"):
        section = (composer or {}).get(key)
        if isinstance(section, dict):
            require.update({str(k).lower(): str(k) for k in section})
    evidence = composer_rel if composer is not None else str(index)
    detection = Detection(
        language=Fact("php", evidence, "composer.json" if composer else "index.php entry point"),
        package_manager=Fact("composer", composer_rel, "composer.json") if composer else None,
    )
    if "laravel/framework" in require:
        detection.framework = Fact("laravel", composer_rel, "requires laravel/framework")
        detection.start_command = Fact(
            "php artisan serve --host 0.0.0.0 --port 8000", composer_rel, "artisan", "medium"
        )
        detection.ports.append(default_port(8000, composer_rel, "`artisan serve` uses 8000"))
    elif any(name.startswith("symfony/framework-bundle") for name in require):
        detection.framework = Fact("symfony", composer_rel, "requires symfony/framework-bundle")
        detection.start_command = Fact(
            "php -S 0.0.0.0:8000 -t public", composer_rel, "Symfony front controller", "medium"
        )
        detection.ports.append(default_port(8000, composer_rel, "Symfony's local server uses 8000"))
    elif index is not None:
        detection.framework = Fact("php", index, "plain PHP entry point", "medium")
        docroot = "public" if index.endswith("public/index.php") else "."
        command = "php -S 0.0.0.0:8080" + ("" if docroot == "." else f" -t {docroot}")
        detection.start_command = Fact(command, index, "PHP's built-in server", "medium")
        detection.ports.append(default_port(8080, index, "the `php -S` start command uses 8080"))
    if detection.framework is None and detection.start_command is None:
        script = next((f for f in sorted(view.in_folder(folder)) if f.endswith(".php")), None)
        if script is not None:
            detection.start_command = Fact(
                f"php {relative_to(folder, script)}", script, "PHP script", "low"
            )
    files = code_files(view, folder, (".php", ".sh", ".json"))
    detection.ports.extend(scan_ports(view, files, _PHP_PORT_PATTERNS, "code"))
    if "laravel/framework" not in require:
        for rel in files:
            text = view.read(rel, MAX_SCANNED_FILE_BYTES) or ""
            for pattern, engine in _PHP_DB_RE:
                match = pattern.search(text)
                if match and all(d.value != engine for d in detection.databases):
                    detection.databases.append(
                        Fact(engine, line_of(view, rel, match.start()), "connects in code")
                    )
    detection.databases.extend(
        databases_from_packages(
            {
                k.replace("ext-pdo_pgsql", "pg").replace("ext-pgsql", "pg"): v
                for k, v in require.items()
            },
            evidence,
        )
    )
    return detection
