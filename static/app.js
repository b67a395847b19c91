// devproxy demo page. Every request below goes to this page's own origin;
// devproxy decides whether a mock, your API or the frontend answers it.
// The DOM is built with createElement and textContent only: response data is
// never parsed as HTML.
(function () {
  'use strict';

  var STATUS_URL = '/__devproxy/status';
  var POLL_MS = 3000;

  // h builds an element: h('p', {className: 'x'}, 'text', child, ...).
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        if (k === 'dataset') {
          Object.keys(props.dataset).forEach(function (d) { el.dataset[d] = props.dataset[d]; });
        } else {
          el[k] = props[k];
        }
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      append(el, arguments[i]);
    }
    return el;
  }

  // append adds each child after el: nodes as they are, strings as text,
  // arrays flattened, null/undefined/false skipped.
  function append(el) {
    for (var i = 1; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) {
        append.apply(null, [el].concat(child));
        continue;
      }
      el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  function code(text) {
    return h('code', null, text);
  }

  function formatTime(s) {
    if (!s) return '';
    var d = new Date(s);
    if (isNaN(d.getTime())) return s;
    return d.toLocaleString();
  }

  // ---- origin ------------------------------------------------------------

  function showOrigin() {
    var el = document.getElementById('origin');
    if (el) el.textContent = location.origin;
  }

  // ---- status and route table -------------------------------------------

  var lastStatusText = null;

  function setStatusMessage(text, isError) {
    var msg = document.getElementById('status-message');
    clear(msg);
    if (!text) {
      msg.hidden = true;
      return;
    }
    msg.hidden = false;
    msg.className = isError ? 'reload failed' : 'muted';
    if (isError) {
      append(msg, h('strong', null, 'Could not load ' + STATUS_URL + ': '), text);
    } else {
      append(msg, text);
    }
  }

  function loadStatus(force) {
    return fetch(STATUS_URL, { cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (res) {
        return res.text().then(function (text) {
          if (!res.ok) {
            throw new Error('HTTP ' + res.status + (text ? ': ' + text.trim() : ''));
          }
          return text;
        });
      })
      .then(function (text) {
        setStatusMessage('');
        if (!force && text === lastStatusText) return; // unchanged: keep the DOM as it is
        var st;
        try {
          st = JSON.parse(text);
        } catch (e) {
          throw new Error('the response is not JSON');
        }
        lastStatusText = text;
        renderStatus(st);
      })
      .catch(function (err) {
        var text = err && err.message ? err.message : String(err);
        if (err instanceof TypeError) {
          text = 'devproxy is not answering (' + text + '). Is it still running?';
        }
        setStatusMessage(text, true);
      });
  }

  function renderStatus(st) {
    document.getElementById('status').hidden = false;
    document.getElementById('status-version').textContent = st.version || '?';
    document.getElementById('status-config').textContent = st.config || '?';
    document.getElementById('status-listen').textContent = st.listen || '?';
    document.getElementById('status-frontend').textContent = st.frontend || '(none configured)';
    renderReload(st.reload);
    renderRoutes(Array.isArray(st.routes) ? st.routes : []);
  }

  function renderReload(reload) {
    var box = document.getElementById('reload');
    clear(box);
    if (!reload) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    var at = formatTime(reload.at);
    if (reload.ok) {
      box.className = 'reload ok';
      box.dataset.ok = 'true';
      append(box, '\u2713 Config loaded' + (at ? ' at ' + at : '') +
        '. This page checks the status every few seconds.');
    } else {
      box.className = 'reload failed';
      box.dataset.ok = 'false';
      box.setAttribute('role', 'alert');
      append(box,
        h('strong', null, 'The last reload failed' + (at ? ' (' + at + ')' : '') + '.'),
        ' devproxy keeps serving the previous config until the file is fixed.',
        h('pre', { className: 'reload-error' }, reload.error || '(no error text)'));
    }
  }

  function renderRoutes(routes) {
    var table = document.getElementById('routes');
    var tbody = table.tBodies[0] || table.appendChild(h('tbody'));
    clear(tbody);
    routes.forEach(function (r) {
      var dest;
      if (r.respond) {
        dest = h('td', null, h('span', { className: 'arrow' }, '\u2192'),
          h('span', { className: 'tag mock' }, 'mock'));
      } else {
        dest = h('td', null, h('span', { className: 'arrow' }, '\u2192'), code(r.target || '?'));
      }
      tbody.appendChild(h('tr', { dataset: { path: r.path || '' } },
        h('td', null, code(r.path || '?')),
        dest));
    });
    var caption = table.caption;
    if (caption) {
      caption.textContent = routes.length
        ? 'Routes, matched by longest path prefix; everything else goes to the frontend.'
        : 'No routes yet: add some under routes: in the config. Everything goes to the frontend.';
    }
  }

  function pollStatus() {
    setTimeout(function () {
      var next = document.hidden ? Promise.resolve() : loadStatus(false);
      next.then(pollStatus);
    }, POLL_MS);
  }

  // ---- API cards ---------------------------------------------------------

  var calls = {
    hello: function () { return fetch('/api/hello'); },
    time: function () { return fetch('/api/time'); }
  };
  var paths = { hello: '/api/hello', time: '/api/time' };

  function statusClass(status) {
    return 'status s' + String(status).charAt(0);
  }

  function call(name) {
    var out = document.getElementById('result-' + name);
    var button = document.querySelector('button[data-call="' + name + '"]');
    if (button) button.disabled = true;
    out.setAttribute('aria-busy', 'true');
    var started = performance.now();

    return calls[name]()
      .then(function (res) {
        return res.text().then(function (text) {
          renderResponse(out, res, text, performance.now() - started);
        });
      })
      .catch(function (err) {
        renderNetworkFailure(out, name, err);
      })
      .then(function () {
        if (button) button.disabled = false;
        out.removeAttribute('aria-busy');
      });
  }

  function parseJSON(text) {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (e) {
      return { ok: false };
    }
  }

  function renderResponse(out, res, text, ms) {
    clear(out);
    var mock = res.headers.get('X-Mock');
    var devErr = res.headers.get('X-Devproxy-Error');
    out.dataset.status = String(res.status);
    out.dataset.kind = devErr ? 'devproxy-error' : (mock ? 'mock' : 'upstream');

    var meta = h('div', { className: 'meta' },
      h('span', { className: statusClass(res.status) }, res.status + (res.statusText ? ' ' + res.statusText : '')),
      mock !== null ? h('span', { className: 'header' }, 'X-Mock: ' + mock) : null,
      devErr !== null ? h('span', { className: 'header' }, 'X-Devproxy-Error: ' + devErr) : null,
      h('span', { className: 'took' }, Math.round(ms) + ' ms'));
    out.appendChild(meta);

    var parsed = parseJSON(text);
    var pretty = parsed.ok ? JSON.stringify(parsed.value, null, 2) : text;
    if (!pretty) pretty = '(empty body)';
    if (pretty.length > 8000) pretty = pretty.slice(0, 8000) + '\n\u2026 (truncated)';

    if (devErr === '1' && parsed.ok && parsed.value && typeof parsed.value === 'object') {
      out.appendChild(explainDevproxyError(parsed.value));
      out.appendChild(h('details', null,
        h('summary', null, 'raw JSON body'),
        h('pre', { className: 'body' }, pretty)));
      return;
    }
    out.appendChild(h('pre', { className: 'body' }, pretty));
  }

  // explainDevproxyError turns devproxy's error JSON
  // {error, route, target, hint} into words.
  function explainDevproxyError(e) {
    var box = h('div', { className: 'error-box', role: 'status' });
    append(box, h('p', null,
      h('strong', null, 'devproxy could not reach the API: '),
      String(e.error || 'unknown error')));

    var facts = h('dl');
    if (e.route) append(facts, h('dt', null, 'route'), h('dd', null, code(e.route)));
    if (e.target) append(facts, h('dt', null, 'target'), h('dd', null, code(e.target)));
    if (facts.firstChild) box.appendChild(facts);

    if (e.hint) box.appendChild(h('p', { className: 'hint' }, 'Hint: ' + e.hint));

    var where = e.target ? e.target : 'http://localhost:5000';
    box.appendChild(h('p', { className: 'expected' },
      'This is expected until a backend runs at ', code(where),
      ' (port 5000 by default). Start your API there, or point ', code(e.route || '/api'),
      ' at it in ', code('devproxy.yaml'), ', then press \u201ccall again\u201d.'));
    return box;
  }

  function renderNetworkFailure(out, name, err) {
    clear(out);
    out.dataset.status = '0';
    out.dataset.kind = 'network-error';
    out.appendChild(h('div', { className: 'meta' },
      h('span', { className: 'status fail' }, 'no response')));
    out.appendChild(h('div', { className: 'error-box', role: 'status' },
      h('p', null, h('strong', null, 'The request to ' + paths[name] + ' did not complete: '),
        String(err && err.message ? err.message : err)),
      h('p', { className: 'expected' },
        'devproxy itself did not answer. Is it still running? Start it again (',
        code('devproxy'), ' or ', code('go run .'), ') and press \u201ccall again\u201d.')));
  }

  // ---- start -------------------------------------------------------------

  function start() {
    showOrigin();

    document.getElementById('status-refresh').addEventListener('click', function () {
      loadStatus(true);
    });
    Array.prototype.forEach.call(document.querySelectorAll('button[data-call]'), function (b) {
      b.addEventListener('click', function () { call(b.dataset.call); });
    });
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) loadStatus(false);
    });

    loadStatus(true).then(pollStatus);
    Object.keys(calls).forEach(call);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
