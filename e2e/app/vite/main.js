import './style.css';
import { label } from './label.js';

function render(text) {
  document.getElementById('label').textContent = text;
}

render(label);
// A deep link of the built app shows which path it was opened at.
document.getElementById('path').textContent = location.pathname;
document.body.dataset.ready = 'true';

if (import.meta.hot) {
  import.meta.hot.accept('./label.js', (mod) => render(mod.label));
}
