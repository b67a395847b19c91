import { label } from './label.js';

function render(text) {
  document.getElementById('label').textContent = text;
}

render(label);
// A deep link shows which path it was opened at.
document.getElementById('path').textContent = location.pathname;
document.body.dataset.ready = 'true';

if (import.meta.webpackHot) {
  // The binding label is live: after the update it holds the new value.
  import.meta.webpackHot.accept('./label.js', () => render(label));
}
