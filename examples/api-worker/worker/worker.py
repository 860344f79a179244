"""Claim queued jobs one at a time (SKIP LOCKED, so replicas never collide) and run them."""

from __future__ import annotations

import os
import time

import psycopg

POLL_INTERVAL = float(os.environ.get("POLL_INTERVAL_SECONDS", "2"))


def run(payload: str) -> str:
    # The "work": count words. Real jobs would go here.
    return f"{len(payload.split())} words"


def claim_and_run(conn: psycopg.Connection) -> bool:
    with conn.transaction():
        row = conn.execute(
            "SELECT id, payload FROM jobs WHERE status = 'queued'"
            " ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"
        ).fetchone()
        if row is None:
            return False
        job_id, payload = row
        conn.execute(
            "UPDATE jobs SET status = 'done', result = %s WHERE id = %s", (run(payload), job_id)
        )
    print(f"job {job_id} done", flush=True)
    return True


def main() -> None:
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        while True:
            try:
                busy = claim_and_run(conn)
            except psycopg.errors.UndefinedTable:
                busy = False  # the API has not created the table yet
                conn.rollback()
            if not busy:
                time.sleep(POLL_INTERVAL)


if __name__ == "__main__":
    main()
