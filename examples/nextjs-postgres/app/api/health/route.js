import { ping } from "../../../lib/db";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    await ping();
    return Response.json({ status: "ok" });
  } catch {
    return Response.json({ status: "database unavailable" }, { status: 503 });
  }
}
