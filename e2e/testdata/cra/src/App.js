import { useEffect } from 'react';
import Label from './Label';

// The dev server answers every path with index.html; the app picks the
// page by path, as a client-side router does.
export default function App() {
  const path = window.location.pathname;
  useEffect(() => {
    document.body.dataset.ready = 'true';
  }, []);
  return (
    <main>
      {path === '/deep/link' ? <h1>deep link</h1> : <Label />}
      <p>
        path: <code id="path">{path}</code>
      </p>
    </main>
  );
}
