// No favicon file: an empty icon keeps the console free of its 404.
export const metadata = { title: 'devproxy e2e (Next.js)', icons: { icon: 'data:,' } };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
