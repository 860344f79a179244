export const metadata = { title: process.env.NEXT_PUBLIC_SITE_NAME ?? "Guestbook" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui", maxWidth: 640, margin: "2rem auto" }}>{children}</body>
    </html>
  );
}
