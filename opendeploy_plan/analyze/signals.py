"""Small parsers shared by detectors: Dockerfiles, Procfiles, port hints in commands, DB drivers."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Final

from opendeploy_plan.analyze.model import Fact, PortCandidate
from opendeploy_plan.analyze.repo import RepoView

_PORT_FLAG_RE: Final = re.compile(
    r"(?:--port[= ]|(?<![\w-])-p[= ]?|--listen[= ](?:[\w.]*:)?|--bind[= ](?:[\w.]*:)"
    r"|-b[= ][\w.]*:|--urls[= ]\S*:|\$\{PORT:-|\$PORT:-|0\.0\.0\.0:|localhost:|\[::\]:"
    r"|--server\.port[= ]|-Dserver\.port=|-Dquarkus\.http\.port=|(?<![\w.])PORT="
    r"|--?(?:addr|address|http|listen-address)[= ]\S*?:|\brunserver\s+)(\d{2,5})\b"
)


def ports_in_command(command: str) -> list[int]:
    """Ports named in a start command (`--port 8000`, `-b 0.0.0.0:5000`, `${PORT:-3000}`)."""
    # Debugger ports (`node --inspect=0.0.0.0:9229`) are not where the app serves.
    command = re.sub(r"--inspect(?:-brk)?(?:=\S+)?|--debug-port[= ]\S+", " ", command)
    return [int(m.group(1)) for m in _PORT_FLAG_RE.finditer(command) if _valid_port(m.group(1))]


def _valid_port(text: str) -> bool:
    return 1 <= int(text) <= 65535


@dataclass
class DockerfileInfo:
    """The last build stage's EXPOSE ports, start command and base image, and every ARG."""

    path: str
    base_image: str
    exposed: list[int] = field(default_factory=list)
    command: str | None = None
    args: list[str] = field(default_factory=list)
    arg_defaults: dict[str, str] = field(default_factory=dict)
    env_defaults: dict[str, str] = field(default_factory=dict)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        lines.append(current)
        current = ""
    if current:
        lines.append(current)
    return lines


def _exec_form(value: str) -> str:
    value = value.strip()
    if value.startswith("["):
        try:
            import json

            parts = json.loads(value)
            if isinstance(parts, list):
                return " ".join(shlex.quote(str(p)) if " " in str(p) else str(p) for p in parts)
        except ValueError:
            pass
    return value


def parse_dockerfile(view: RepoView, rel: str) -> DockerfileInfo | None:
    text = view.read(rel)
    if text is None:
        return None
    info = DockerfileInfo(path=rel, base_image="")
    entrypoint: str | None = None
    for line in _logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            # A new stage: only the last stage's runtime settings count.
            info.base_image = rest.split()[0] if rest else ""
            info.exposed = []
            info.command = None
            entrypoint = None
        elif keyword == "EXPOSE":
            for token in rest.split():
                number = token.split("/")[0]
                if number.isdigit() and _valid_port(number):
                    info.exposed.append(int(number))
        elif keyword == "CMD":
            info.command = _exec_form(rest)
        elif keyword == "ENTRYPOINT":
            entrypoint = _exec_form(rest)
        elif keyword == "ARG":
            name, has_default, default = rest.partition("=")
            name = name.strip()
            if name and name not in info.args:
                info.args.append(name)
            if name and has_default:
                info.arg_defaults[name] = default.strip().strip('"')
        elif keyword == "ENV":
            for key, value in _env_pairs(rest):
                info.env_defaults[key] = value
    if entrypoint:
        info.command = f"{entrypoint} {info.command}" if info.command else entrypoint
    return info


def _env_pairs(rest: str) -> list[tuple[str, str]]:
    if "=" not in rest.split(" ", 1)[0]:
        key, _, value = rest.partition(" ")
        return [(key, value.strip().strip('"'))]
    try:
        tokens = shlex.split(rest)
    except ValueError:
        tokens = rest.split()
    return [(key, value) for key, sep, value in (t.partition("=") for t in tokens) if sep and key]


def parse_procfile(view: RepoView, rel: str) -> dict[str, str]:
    text = view.read(rel)
    processes: dict[str, str] = {}
    if text is None:
        return processes
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line.strip())
        if match:
            processes[match.group(1)] = match.group(2).strip()
    return processes


def command_port_candidates(command: Fact | None) -> list[PortCandidate]:
    if command is None:
        return []
    return [
        PortCandidate(port, 3, command.file, f"start command `{command.value}`")
        for port in ports_in_command(command.value)
    ]


# analyze-local.md "database_type": driver packages per ecosystem, lower-case names.
DATABASE_DRIVERS: Final[dict[str, tuple[str, ...]]] = {
    "postgres": (
        "pg",
        "postgres",
        "pg-promise",
        "@neondatabase/serverless",
        "@vercel/postgres",
        "psycopg2",
        "psycopg2-binary",
        "psycopg",
        "asyncpg",
        "gorm.io/driver/postgres",
        "github.com/lib/pq",
        "github.com/jackc/pgx",
        "github.com/jackc/pgx/v4",
        "github.com/jackc/pgx/v5",
        "tokio-postgres",
        "postgres-types",
        "org.postgresql:postgresql",
        "npgsql",
        "npgsql.entityframeworkcore.postgresql",
        "postgrex",
        "pg-gem",
        "psycopg-binary",
        "psycopg-pool",
        "psycopg2cffi",
        "pg8000",
        "aiopg",
        "deadpool-postgres",
        "pgx",
    ),
    "mysql": (
        "mysql",
        "mysql2",
        "pymysql",
        "mysqlclient",
        "mysql-connector-python",
        "aiomysql",
        "gorm.io/driver/mysql",
        "github.com/go-sql-driver/mysql",
        "mysql_async",
        "com.mysql:mysql-connector-j",
        "mysql:mysql-connector-java",
        "pomelo.entityframeworkcore.mysql",
        "myxql",
        "trilogy",
        "mariadb",
        "org.mariadb.jdbc:mariadb-java-client",
        "asyncmy",
        "mysql-connector",
    ),
    "mongodb": (
        "mongoose",
        "mongodb",
        "pymongo",
        "motor",
        "mongoengine",
        "go.mongodb.org/mongo-driver",
        "mongo-driver",
        "mongoid",
        "mongo",
        "org.mongodb:mongodb-driver-sync",
        "mongodb.driver",
        "mongodb/mongodb",
        "flask-pymongo",
        "beanie",
        "odmantic",
        "mongodb_driver",
        "connect-mongo",
    ),
    "redis": (
        "redis",
        "ioredis",
        "@upstash/redis",
        "bullmq",
        "bull",
        "github.com/go-redis/redis",
        "github.com/go-redis/redis/v8",
        "github.com/redis/go-redis/v9",
        "redis-rs",
        "rq",
        "celery[redis]",
        "sidekiq",
        "stackexchange.redis",
        "redix",
        "aioredis",
        "django-redis",
        "predis/predis",
        "ext-redis",
        "resque",
        "@redis/client",
        "redis-om",
        "connect-redis",
        "github.com/gomodule/redigo",
        "redis.clients:jedis",
        "io.lettuce:lettuce-core",
        "arq",
        "dramatiq[redis]",
    ),
}


def databases_from_packages(names: dict[str, str], file: str) -> list[Fact]:
    """Database types implied by dependency names (`names` maps lower-case name -> shown name)."""
    found: list[Fact] = []
    for db_type, drivers in DATABASE_DRIVERS.items():
        for driver in drivers:
            if driver in names:
                found.append(Fact(db_type, file, f"depends on {names[driver]}"))
                break
    return found


# Files larger than this are generated or vendored, not code a person wrote a port into.
MAX_SCANNED_FILE_BYTES: Final = 200 * 1024
MAX_SCANNED_FILES: Final = 400
_NOT_APP_PORTS: Final = frozenset({5432, 3306, 6379, 27017, 9200, 5672, 11211, 8123})
_SKIPPED_SCAN_PARTS: Final = ("test", "tests", "__tests__", "spec", "e2e", "fixtures", "migrations")


def code_files(view: RepoView, folder: str, suffixes: tuple[str, ...]) -> list[str]:
    """Source files to grep (not to classify): tests and fixtures are skipped, count is capped."""
    picked: list[str] = []
    for rel in view.under(folder):
        if not rel.endswith(suffixes):
            continue
        parts = rel.split("/")[:-1]
        if any(part in _SKIPPED_SCAN_PARTS for part in parts) or ".test." in rel or ".spec." in rel:
            continue
        picked.append(rel)
        if len(picked) >= MAX_SCANNED_FILES:
            break
    return picked


def scan_ports(
    view: RepoView,
    files: list[str],
    patterns: tuple[re.Pattern[str], ...],
    what: str,
) -> list[PortCandidate]:
    """Rank-3 port candidates from explicit code (`app.listen(3000)`, `PORT || 8080`)."""
    found: list[PortCandidate] = []
    for rel in files:
        text = view.read(rel, MAX_SCANNED_FILE_BYTES)
        if text is None:
            continue
        for pattern in patterns:
            for match in pattern.finditer(text):
                number = match.group(1)
                if not _valid_port(number) or int(number) in _NOT_APP_PORTS:
                    continue
                line = text.count("\n", 0, match.start()) + 1
                snippet = " ".join(match.group(0).split())[:60]
                found.append(PortCandidate(int(number), 3, f"{rel}:{line}", f"{what} `{snippet}`"))
    return found


def grep_first(
    view: RepoView, files: list[str], pattern: re.Pattern[str]
) -> tuple[str, re.Match[str]] | None:
    """The first file (and match) where `pattern` occurs."""
    for rel in files:
        text = view.read(rel, MAX_SCANNED_FILE_BYTES)
        if text is None:
            continue
        match = pattern.search(text)
        if match:
            return rel, match
    return None


def line_of(view: RepoView, rel: str, offset: int) -> str:
    text = view.read(rel, MAX_SCANNED_FILE_BYTES) or ""
    return f"{rel}:{text.count(chr(10), 0, offset) + 1}"


def default_port(port: int, file: str, reason: str) -> PortCandidate:
    return PortCandidate(port, 4, file, reason)
