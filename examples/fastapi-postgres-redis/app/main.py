"""A link shortener: POST /links stores a URL, GET /{code} redirects (cached in Redis)."""

from __future__ import annotations

import os
import secrets
from contextlib import asynccontextmanager

import redis.asyncio as redis
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import RedirectResponse
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, HttpUrl

CACHE_TTL = int(os.environ.get("CACHE_TTL_SECONDS", "300"))
pool = AsyncConnectionPool(os.environ["DATABASE_URL"], open=False)
cache = redis.from_url(os.environ["REDIS_URL"], decode_responses=True)


@asynccontextmanager
async def lifespan(_: FastAPI):
    await pool.open()
    async with pool.connection() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS links (code text PRIMARY KEY, url text NOT NULL)"
        )
    yield
    await pool.close()
    await cache.aclose()


app = FastAPI(title="shortener", lifespan=lifespan)


class NewLink(BaseModel):
    url: HttpUrl


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    async with pool.connection() as conn:
        await conn.execute("SELECT 1")
    await cache.ping()
    return {"status": "ready"}


@app.post("/links", status_code=201)
async def create_link(link: NewLink, x_admin_token: str = Header(default="")) -> dict[str, str]:
    if not secrets.compare_digest(x_admin_token, os.environ.get("ADMIN_TOKEN", "")):
        raise HTTPException(status_code=401, detail="bad admin token")
    code = secrets.token_urlsafe(5)
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO links (code, url) VALUES (%s, %s)", (code, str(link.url)))
    return {"code": code}


@app.get("/{code}")
async def follow(code: str) -> RedirectResponse:
    url = await cache.get(f"link:{code}")
    if url is None:
        async with pool.connection() as conn:
            row = await (await conn.execute("SELECT url FROM links WHERE code = %s", (code,))).fetchone()
        if row is None:
            raise HTTPException(status_code=404, detail="no such link")
        url = row[0]
        await cache.set(f"link:{code}", url, ex=CACHE_TTL)
    return RedirectResponse(url, status_code=307)
