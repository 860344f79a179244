"""The gateway's store seals secrets: runtime variables, build variables and database
passwords are encrypted on disk with a key kept outside the state folder; files are 0600."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from opendeploy_plan.emulator.store import Sealed, Store, StoreKeyError

CANARY = "canary-5e1f-sealed-store"


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def add_service(store: Store, env: dict[str, str]) -> None:
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO services VALUES (?,?,?,?,?,?,?,?)",
            ("s1", "p1", "web", "staging", Sealed("{}"), Sealed(json.dumps(env)), 0.0, 0.0),
        )


def read_env(store: Store) -> dict[str, str]:
    with store.transaction() as tx:
        row = tx.one("SELECT env FROM services WHERE id='s1'")
        assert row is not None
        return dict(json.loads(row["env"]))


def test_secrets_are_sealed_on_disk_and_read_back_in_clear(tmp_path: Path) -> None:
    state, key = tmp_path / "state", tmp_path / "keys" / "gateway.key"
    store = Store(str(state / "gateway.db"), key_file=key)
    add_service(store, {"TOKEN": CANARY})
    assert read_env(store) == {"TOKEN": CANARY}
    assert CANARY.encode() not in all_bytes(state)  # the db and its -wal, while open
    store.close()
    assert CANARY.encode() not in all_bytes(state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for path in state.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    again = Store(str(state / "gateway.db"), key_file=key)  # a restart reads them back
    assert read_env(again) == {"TOKEN": CANARY}
    again.close()


def test_a_lost_or_another_key_is_refused_with_what_to_do(tmp_path: Path) -> None:
    db = str(tmp_path / "gateway.db")
    Store(db, key_file=tmp_path / "a.key").close()
    with pytest.raises(StoreKeyError, match=r"key file .*b\.key is missing: restore that key"):
        Store(db, key_file=tmp_path / "b.key")
    assert not (tmp_path / "b.key").exists()  # no new key for a sealed database
    (tmp_path / "b.key").write_bytes(Fernet.generate_key())
    with pytest.raises(StoreKeyError, match=r"sealed with another key .* restore that key"):
        Store(db, key_file=tmp_path / "b.key")
    (tmp_path / "c.key").write_text("not a key")
    with pytest.raises(StoreKeyError, match=r"c\.key is not a sealing key"):
        Store(str(tmp_path / "fresh.db"), key_file=tmp_path / "c.key")


def test_clear_values_of_an_older_database_are_sealed_and_vacuumed(tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    Store(str(db), key_file=tmp_path / "k").close()
    raw = sqlite3.connect(db)  # what an older gateway wrote: the env in clear
    raw.execute(
        "INSERT INTO services VALUES ('s1','p1','web','staging','{}',?,0,0)",
        (json.dumps({"TOKEN": CANARY}),),
    )
    raw.commit()
    raw.close()
    assert CANARY.encode() in all_bytes(tmp_path)
    store = Store(str(db), key_file=tmp_path / "k")
    assert read_env(store) == {"TOKEN": CANARY}
    store.close()
    assert CANARY.encode() not in all_bytes(tmp_path)


def test_an_existing_database_file_is_made_private(tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    sqlite3.connect(db).close()
    db.chmod(0o644)
    Store(str(db), key_file=tmp_path / "k").close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_a_memory_store_seals_with_a_key_in_memory() -> None:
    store = Store(":memory:")
    add_service(store, {"TOKEN": CANARY})
    assert read_env(store) == {"TOKEN": CANARY}
    with store.transaction() as tx:  # what SQLite holds is the sealed text
        tx_conn = tx._conn  # the raw value, below the unsealing row factory
        raw = tx_conn.execute("SELECT CAST(env AS BLOB) FROM services").fetchone()[0]
    assert CANARY.encode() not in bytes(raw)
    store.close()
