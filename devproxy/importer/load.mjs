// Reads a project's dev-server proxy config the way its own tool does, with
// the project's own installed packages, and writes what it found as JSON
// for devproxy init.
// Usage: node load.mjs MODE PROJECT_DIR OUT_FILE FILE SUFFIXES
//
// MODE is vite, astro, setupproxy, angular, webpack or next. FILE is the
// config file, relative to PROJECT_DIR, when the mode needs one named.
// SUFFIXES is a JSON list of paths that rewrite functions are tried on
// below each prefix.
// The result is {rules, port, hmr, tool_version, warnings} or {error}.

import { createRequire } from 'node:module';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode, dir, out, file, suffixes] = process.argv.slice(2);
const requireFromProject = createRequire(path.join(dir, 'package.json'));


function resolveProject(name) {
  try {
    return requireFromProject.resolve(name);
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') {
      return null;
    }
    throw err;
  }
}

async function importProject(name) {
  const p = resolveProject(name);
  if (p === null) {
    return null;
  }
  return import(pathToFileURL(p).href);
}

function packageVersion(name) {
  const p = resolveProject(name + '/package.json');
  return p === null ? '' : JSON.parse(readFileSync(p, 'utf8')).version;
}

// base is the literal start of a context: what a prefix route would match.
function base(context) {
  let s = context.startsWith('^') ? context.slice(1) : context;
  const i = s.search(/[*([.+?\\$]/);
  if (i >= 0) {
    s = s.slice(0, i);
  }
  return s.replace(/\/+$/, '');
}

// samples calls rewrite on paths below each context and records what it
// returns, so that devproxy can tell a prefix strip from anything else.
function samples(rewrite, contexts) {
  const outs = {};
  for (const c of contexts) {
    const b = base(c);
    for (const input of JSON.parse(suffixes).map((s) => b + s)) {
      try {
        const r = rewrite(input, { url: input, originalUrl: input, headers: {} });
        outs[input] = typeof r === 'string' ? r : String(r);
      } catch (err) {
        outs[input] = 'threw ' + err;
      }
    }
  }
  return outs;
}

// pathRewriteFn turns http-proxy-middleware's pathRewrite object (regex
// source -> replacement, applied in order until one matches) into a
// function, as the middleware does.
function pathRewriteFn(pr) {
  if (typeof pr === 'function') {
    return pr;
  }
  const rules = Object.entries(pr).map(([re, to]) => [new RegExp(re), to]);
  return (p) => {
    for (const [re, to] of rules) {
      if (re.test(p)) {
        return p.replace(re, to);
      }
    }
    return p;
  };
}

function targetURL(t) {
  if (t === undefined || t === null) {
    return null;
  }
  if (typeof t === 'string') {
    return t;
  }
  if (t instanceof URL) {
    return t.href;
  }
  if (typeof t === 'object') {
    const proto = (t.protocol || 'http:').replace(/:?$/, ':');
    const host = t.host || t.hostname || 'localhost';
    return proto + '//' + host + (t.port && !String(host).includes(':') ? ':' + t.port : '');
  }
  return String(t);
}

// The options of http-proxy and http-proxy-middleware that devproxy either
// translates or knows to be harmless behind it.
const KNOWN = new Set(['target', 'changeOrigin', 'secure', 'ws', 'headers', 'rewrite', 'pathRewrite', 'bypass',
  'router', 'context', 'pathFilter', 'configure', 'logLevel', 'logger', 'logProvider', 'onProxyReq', 'onProxyRes',
  'onError', 'on', 'xfwd', 'timeout', 'proxyTimeout', 'cookieDomainRewrite', 'autoRewrite', 'followRedirects']);

// rule describes one proxy entry: contexts are the paths or patterns it
// claims as written, opts its options.
function rule(from, contexts, opts) {
  const r = {
    from,
    contexts: contexts.map(String),
    regex: contexts.some((c) => c instanceof RegExp),
    target: targetURL(opts.target),
    change_origin: opts.changeOrigin ?? null,
    secure: opts.secure ?? null,
    ws: opts.ws ?? null,
    headers: opts.headers ?? null,
    bypass: typeof opts.bypass === 'function',
    router: opts.router === undefined ? '' : typeof opts.router,
    configure: typeof opts.configure === 'function' || typeof opts.onProxyReq === 'function' ||
      typeof opts.on === 'object',
    timeout: opts.proxyTimeout ?? null,
    unknown: Object.keys(opts).filter((k) => !KNOWN.has(k)),
    rewrite: null,
  };
  if (contexts.some((c) => typeof c === 'function')) {
    r.contexts = ['function'];
    r.context_function = true;
  }
  const rw = opts.rewrite ?? opts.pathRewrite;
  if (rw !== undefined && rw !== null) {
    r.rewrite = samples(pathRewriteFn(rw), r.contexts);
  }
  return r;
}

// proxyEntries reads the object form ({'/api': target or options}) and the
// array form ([{context: [...], ...options}]) that Vite, webpack-dev-server
// and Angular accept.
function proxyEntries(proxy, from) {
  const rules = [];
  if (Array.isArray(proxy)) {
    proxy.forEach((p, i) => {
      const opts = typeof p === 'function' ? p() : p;
      let ctx = opts.context ?? opts.pathFilter ?? [];
      ctx = Array.isArray(ctx) ? ctx : [ctx];
      rules.push(rule(`${from}[${i}]`, ctx, opts));
    });
    return rules;
  }
  for (const [key, val] of Object.entries(proxy || {})) {
    const opts = typeof val === 'string' ? { target: val } : val;
    let ctx = [key];
    if (opts && opts.context !== undefined) {
      ctx = Array.isArray(opts.context) ? opts.context : [opts.context];
    }
    rules.push(rule(`${from}['${key}']`, ctx, opts || {}));
  }
  return rules;
}

async function loadVite(configFile, pick, where) {
  const vite = await importProject('vite');
  if (vite === null) {
    return { missing: 'vite' };
  }
  const loaded = await vite.loadConfigFromFile({ command: 'serve', mode: 'development' },
    configFile ? path.join(dir, configFile) : undefined, dir, 'silent');
  if (loaded === null) {
    return { error: 'no Vite config file found' };
  }
  const server = pick(loaded.config).server || {};
  const name = path.basename(loaded.path);
  const hmr = typeof server.hmr === 'object' && server.hmr !== null ? server.hmr : {};
  return {
    file: name,
    tool_version: packageVersion('vite'),
    port: server.port ?? null,
    hmr: { client_port: hmr.clientPort ?? null, host: hmr.host ?? null, port: hmr.port ?? null },
    rules: proxyEntries(server.proxy, `${name} ${where}.proxy`),
  };
}

// loadSetupProxy runs src/setupProxy.js as Create React App does, with an
// app whose use() records each middleware and the path it is mounted on.
// createProxyMiddleware is the project's own, wrapped to record its
// arguments; without http-proxy-middleware installed, a stand-in records them.
async function loadSetupProxy() {
  const Module = createRequire(import.meta.url)('node:module');
  const made = new Map();
  const hpmPath = resolveProject('http-proxy-middleware');
  const version = packageVersion('http-proxy-middleware');
  const real = hpmPath ? requireFromProject(hpmPath) : null;
  const wrap = (...args) => {
    let ctx;
    let opts = args[0];
    if (args.length > 1 || typeof args[0] === 'string' || Array.isArray(args[0]) || typeof args[0] === 'function') {
      [ctx, opts] = args;
    }
    opts = opts || {};
    ctx = ctx ?? opts.pathFilter ?? opts.context;
    const mw = real ? real.createProxyMiddleware(...args) : function proxyStandIn() {};
    made.set(mw, { ctx, opts });
    return mw;
  };
  const stub = real ? { ...real, createProxyMiddleware: wrap, default: wrap } : { createProxyMiddleware: wrap };
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (request === 'http-proxy-middleware') {
      return stub;
    }
    return load.call(this, request, ...rest);
  };
  const used = [];
  const app = {
    use(...args) {
      const mount = typeof args[0] === 'string' || Array.isArray(args[0]) ? args.shift() : null;
      for (const mw of args.flat()) {
        used.push({ mount, mw });
      }
      return app;
    },
  };
  for (const m of ['get', 'post', 'put', 'delete', 'all']) {
    app[m] = (...args) => {
      used.push({ mount: args[0], mw: null, method: m });
      return app;
    };
  }
  const setup = requireFromProject(path.join(dir, 'src', 'setupProxy.js'));
  await (typeof setup === 'function' ? setup(app) : setup.default(app));
  // Without the package installed, the version package.json asks for.
  let wanted = version;
  if (!wanted) {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    wanted = ({ ...pkg.devDependencies, ...pkg.dependencies })['http-proxy-middleware'] || '2';
  }
  const major = parseInt(String(wanted).replace(/^[^0-9]*/, ''), 10) || 2;
  const rules = [];
  const warnings = [];
  used.forEach(({ mount, mw, method }, i) => {
    const from = `src/setupProxy.js app.${method || 'use'}() #${i + 1}`;
    const rec = made.get(mw);
    if (!rec) {
      warnings.push(`app.${method || 'use'}() #${i + 1}${mount ? ` on ${JSON.stringify(mount)}` : ''} is not a proxy made by createProxyMiddleware: devproxy does not run it; write a route with respond: if you need its answer`);
      return;
    }
    let ctx = rec.ctx;
    ctx = ctx === undefined ? (mount === null ? ['/'] : []) : Array.isArray(ctx) ? ctx : [ctx];
    const mounts = mount === null ? [''] : Array.isArray(mount) ? mount : [mount];
    const contexts = [];
    for (const m of mounts) {
      if (ctx.length === 0) {
        contexts.push(m);
      }
      for (const c of ctx) {
        contexts.push(typeof c === 'string' ? m.replace(/\/$/, '') + c : c);
      }
    }
    const r = rule(from, contexts, rec.opts);
    // Express strips the mount path from req.url; http-proxy-middleware 3
    // forwards req.url, 2 forwarded req.originalUrl.
    r.mount_stripped = mount !== null && major >= 3;
    rules.push(r);
  });
  return { rules, warnings, tool_version: version, stand_in: real === null };
}

async function importConfig(file) {
  const mod = await import(pathToFileURL(path.join(dir, file)).href);
  return mod.default ?? mod;
}

async function loadWebpack() {
  let cfg = await importConfig(file);
  if (typeof cfg === 'function') {
    cfg = await cfg({ WEBPACK_SERVE: true }, { mode: 'development', env: { WEBPACK_SERVE: true } });
  }
  const all = Array.isArray(cfg) ? cfg : [cfg];
  const dev = all.find((c) => c && c.devServer) || {};
  const ds = dev.devServer || {};
  return {
    file,
    tool_version: packageVersion('webpack-dev-server'),
    port: ds.port ?? null,
    web_socket_url: ds.client && ds.client.webSocketURL !== undefined ? String(JSON.stringify(ds.client.webSocketURL)) : null,
    rules: proxyEntries(ds.proxy, `${file} devServer.proxy`),
  };
}

async function loadAngular() {
  let cfg;
  if (file.endsWith('.json')) {
    cfg = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  } else {
    cfg = await importConfig(file);
  }
  return { file, rules: proxyEntries(cfg, file) };
}

// loadNext reads the config with next dev's own loader when the project
// has Next installed: it transpiles next.config.ts with Next's SWC and
// calls a config function with the development phase. Without Next, a
// JavaScript config is imported as Node imports it; a TypeScript one
// needs Next.
async function loadNext() {
  let cfg;
  let version = '';
  const loader = resolveProject('next/dist/server/config');
  const ts = /\.[mc]?ts$/.test(file);
  if (loader !== null) {
    if (ts && resolveProject('typescript') === null) {
      // Next would install TypeScript into the project itself.
      return { missing: 'typescript' };
    }
    const { PHASE_DEVELOPMENT_SERVER } = requireFromProject('next/constants');
    cfg = await requireFromProject(loader).default(PHASE_DEVELOPMENT_SERVER, dir, { silent: true });
    version = packageVersion('next');
  } else if (ts) {
    return { missing: 'next' };
  } else {
    cfg = await importConfig(file);
    if (typeof cfg === 'function') {
      cfg = await cfg('phase-development-server', { defaultConfig: {} });
    }
  }
  const rules = [];
  const warnings = [];
  if (typeof cfg.rewrites === 'function') {
    let rw = await cfg.rewrites();
    const lists = Array.isArray(rw) ? { '': rw } : rw;
    for (const [phase, list] of Object.entries(lists || {})) {
      (list || []).forEach((r, i) => {
        const from = `${file} rewrites()${phase ? '.' + phase : ''}[${i}]`;
        rules.push({ from, next: true, source: r.source, destination: r.destination, has: !!(r.has || r.missing) });
      });
    }
  }
  return { file, tool_version: version, rules, warnings };
}

async function main() {
  switch (mode) {
    case 'vite':
      return loadVite(file, (c) => c, 'server');
    case 'astro':
      return loadVite(file, (c) => c.vite || {}, 'vite.server');
    case 'setupproxy':
      return loadSetupProxy();
    case 'webpack':
      return loadWebpack();
    case 'angular':
      return loadAngular();
    case 'next':
      return loadNext();
  }
  return { error: `unknown mode ${mode}` };
}

let result;
try {
  result = await main();
} catch (err) {
  const msg = err && err.message ? err.message : String(err);
  result = { error: msg.split('\n').slice(0, 3).join(' ').trim() };
}
writeFileSync(out, JSON.stringify(result));
process.exit(0);
