'use client';

import { useEffect } from 'react';
import { usePathname } from 'next/navigation';

// Ready shows the path the router matched and marks the page as hydrated,
// which is when the browser tests start.
export default function Ready() {
  const path = usePathname();
  useEffect(() => {
    document.body.dataset.ready = 'true';
  }, []);
  return (
    <p>
      path: <code id="path">{path}</code>
    </p>
  );
}
