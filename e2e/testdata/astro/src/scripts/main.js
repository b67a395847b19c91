// The page's client script: it shows the label and marks the page as
// started, which is when the browser tests begin.
import { label } from './label.js';

function render(text) {
  const el = document.getElementById('label');
  if (el) el.textContent = text;
}

render(label);
document.body.dataset.ready = 'true';

if (import.meta.hot) {
  import.meta.hot.accept('./label.js', (mod) => mod && render(mod.label));
}
