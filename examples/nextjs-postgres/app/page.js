import { revalidatePath } from "next/cache";
import { addEntry, listEntries } from "../lib/db";

export const dynamic = "force-dynamic";

async function sign(formData) {
  "use server";
  const body = String(formData.get("body") ?? "").trim().slice(0, 500);
  if (body) await addEntry(body);
  revalidatePath("/");
}

export default async function Home() {
  const entries = await listEntries();
  return (
    <main>
      <h1>{process.env.NEXT_PUBLIC_SITE_NAME ?? "Guestbook"}</h1>
      <form action={sign}>
        <input name="body" placeholder="Say hello" required />
        <button type="submit">Sign</button>
      </form>
      <ul>
        {entries.map((entry) => (
          <li key={entry.id}>{entry.body}</li>
        ))}
      </ul>
    </main>
  );
}
