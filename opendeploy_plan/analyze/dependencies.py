"""Which databases a service needs, and which of its variables a dependency provides."""

from __future__ import annotations

import re
from typing import Final

# The variables a platform dependency injects into every service that `uses:` it
# (api-schemas.md step 3.2 documents DATABASE_URL and the POSTGRES_* fields; the others follow
# the same shape for their engines).
PROVIDED_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "postgres": (
        "DATABASE_URL",
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
    ),
    "mysql": (
        "DATABASE_URL",
        "MYSQL_HOST",
        "MYSQL_PORT",
        "MYSQL_USER",
        "MYSQL_PASSWORD",
        "MYSQL_DATABASE",
    ),
    "mongodb": ("MONGODB_URI", "MONGODB_HOST", "MONGODB_PORT", "MONGODB_USER", "MONGODB_PASSWORD"),
    "redis": ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"),
    "clickhouse": (
        "CLICKHOUSE_URL",
        "CLICKHOUSE_HOST",
        "CLICKHOUSE_PORT",
        "CLICKHOUSE_USER",
        "CLICKHOUSE_PASSWORD",
    ),
}
URL_KEY: Final = {
    "postgres": "DATABASE_URL",
    "mysql": "DATABASE_URL",
    "mongodb": "MONGODB_URI",
    "redis": "REDIS_URL",
    "clickhouse": "CLICKHOUSE_URL",
}
# analyze-local.md §4: variable names that mean "this service needs a database".
_NAME_SIGNALS: Final[tuple[tuple[re.Pattern[str], str | None], ...]] = (
    (re.compile(r"^(POSTGRES|PG|POSTGRESQL)_"), "postgres"),
    (re.compile(r"^(MYSQL|MARIADB)_"), "mysql"),
    (re.compile(r"^MONGO"), "mongodb"),
    (re.compile(r"^(REDIS|VALKEY)_"), "redis"),
    (re.compile(r"^CLICKHOUSE_"), "clickhouse"),
    (re.compile(r"^DATABASE_URL$"), None),
)
_DB_URL_ALIASES: Final = re.compile(
    r"(^|_)(DB|DATABASE)_(URL|URI|DSN|CONNECTION_STRING|HOST|PORT|USER|USERNAME|PASSWORD|NAME|DATABASE)$"
)
# Laravel-style `DB_CONNECTION=mysql` in an example file names the engine.
CONNECTION_VALUES: Final = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "pgsql": "postgres",
    "postgres": "postgres",
    "postgresql": "postgres",
    "mongodb": "mongodb",
}
_SUFFIX_KEY: Final = (
    (re.compile(r"_(URL|URI|DSN|CONNECTION(_STRING)?)$"), "url"),
    (re.compile(r"_HOST(NAME)?$"), "HOST"),
    (re.compile(r"_PORT$"), "PORT"),
    (re.compile(r"_(USER|USERNAME)$"), "USER"),
    (re.compile(r"_(PASSWORD|PASS)$"), "PASSWORD"),
    (re.compile(r"_(DB|DATABASE|NAME)$"), "DB"),
)


def database_type_from_name(name: str) -> tuple[bool, str | None]:
    """(does the name signal a database, which type if the name says so)."""
    for pattern, db_type in _NAME_SIGNALS:
        if pattern.search(name):
            return True, db_type
    if _DB_URL_ALIASES.search(name):
        return True, None
    return False, None


def provided_key_for(name: str, db_type: str) -> str | None:
    """The dependency key a service variable should point at, or None if it is not DB config.

    Exact names are covered by `uses:` already; this maps aliases (`DB_URL`, `PG_HOST`,
    `MONGO_URL`) onto the provided key of the same meaning.
    """
    provided = PROVIDED_KEYS.get(db_type, ())
    if name in provided:
        return name
    signals, named_type = database_type_from_name(name)
    if not signals or (named_type is not None and named_type != db_type):
        return None
    for pattern, meaning in _SUFFIX_KEY:
        if pattern.search(name):
            if meaning == "url":
                return URL_KEY[db_type]
            key = next((k for k in provided if k.endswith("_" + meaning)), None)
            if key is None and meaning == "DB":
                key = next((k for k in provided if k.endswith(("_DATABASE", "_DB"))), None)
            return key
    return URL_KEY[db_type] if name == "DATABASE_URL" else None
