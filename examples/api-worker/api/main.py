"""Enqueue jobs (POST /jobs) and read their status (GET /jobs/{id}); the worker runs them."""

from __future__ import annotations

import os
import secrets

import psycopg
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

DATABASE_URL = os.environ["DATABASE_URL"]
app = FastAPI(title="jobs")


def connect() -> psycopg.Connection:
    return psycopg.connect(DATABASE_URL, autocommit=True)


@app.on_event("startup")
def create_table() -> None:
    with connect() as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS jobs ("
            " id bigserial PRIMARY KEY, payload text NOT NULL,"
            " status text NOT NULL DEFAULT 'queued', result text)"
        )


class NewJob(BaseModel):
    payload: str


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/jobs", status_code=201)
def enqueue(job: NewJob, authorization: str = Header(default="")) -> dict[str, int]:
    expected = f"Bearer {os.environ.get('API_TOKEN', '')}"
    if not secrets.compare_digest(authorization, expected):
        raise HTTPException(status_code=401, detail="bad token")
    with connect() as conn:
        row = conn.execute(
            "INSERT INTO jobs (payload) VALUES (%s) RETURNING id", (job.payload,)
        ).fetchone()
    assert row is not None
    return {"id": row[0]}


@app.get("/jobs/{job_id}")
def status(job_id: int) -> dict[str, object]:
    with connect() as conn:
        row = conn.execute("SELECT status, result FROM jobs WHERE id = %s", (job_id,)).fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail="no such job")
    return {"id": job_id, "status": row[0], "result": row[1]}
