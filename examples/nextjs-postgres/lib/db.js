import pg from "pg";

// One pool per server process; DATABASE_URL is injected by `uses: [db]`.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });

export async function ensureSchema() {
  await pool.query(
    "CREATE TABLE IF NOT EXISTS entries (id serial PRIMARY KEY, body text NOT NULL, created_at timestamptz DEFAULT now())"
  );
}

export async function listEntries() {
  await ensureSchema();
  const { rows } = await pool.query("SELECT id, body, created_at FROM entries ORDER BY id DESC LIMIT 50");
  return rows;
}

export async function addEntry(body) {
  await ensureSchema();
  await pool.query("INSERT INTO entries (body) VALUES ($1)", [body]);
}

export async function ping() {
  await pool.query("SELECT 1");
}
