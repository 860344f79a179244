"""The demo's app: a greeting stored in PostgreSQL, read back on every request.

Standard library HTTP server plus psycopg, so that a build needs one wheel. On start it
creates its table and stores one greeting; `GET /` reads that row (and counts the visit in
another), so the answer really comes from the database.
"""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

DATABASE_URL = os.environ["DATABASE_URL"]

with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS greetings "
        "(id serial PRIMARY KEY, message text NOT NULL, stored_at timestamptz DEFAULT now())"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS visits (id serial PRIMARY KEY, at timestamptz DEFAULT now())"
    )
    if conn.execute("SELECT count(*) FROM greetings").fetchone()[0] == 0:
        conn.execute(
            "INSERT INTO greetings (message) VALUES (%s)",
            ("Hello from PostgreSQL! This row was stored when the app first started.",),
        )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, {"status": "ok"})
            return
        if self.path != "/":
            self.reply(404, {"error": "not found"})
            return
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            row_id, message, stored_at = conn.execute(
                "SELECT id, message, stored_at FROM greetings ORDER BY id LIMIT 1"
            ).fetchone()
            conn.execute("INSERT INTO visits DEFAULT VALUES")
            visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
            server = conn.execute("SHOW server_version").fetchone()[0]
        self.reply(
            200,
            {
                "message": message,
                "row": {"table": "greetings", "id": row_id, "stored_at": stored_at.isoformat()},
                "visits": visits,
                "database": f"PostgreSQL {server}",
            },
        )

    def reply(self, status, body):
        data = (json.dumps(body, indent=2) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print(f"{self.address_string()} {fmt % args}", flush=True)


if __name__ == "__main__":
    # The platform gives PORT (and, locally, HOST=127.0.0.1: apps listen on loopback there).
    host, port = os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8000"))
    print(f"hello-postgres listening on {host}:{port}", flush=True)
    ThreadingHTTPServer((host, port), Handler).serve_forever()
