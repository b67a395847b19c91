// The browser tests edit this text and expect Vite's HMR, inside astro dev,
// to show it without reloading the page.
export const label = 'version 1';
