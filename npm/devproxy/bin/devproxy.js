#!/usr/bin/env node
// The devproxy command of the npm package: it finds the binary that npm
// installed from the package of this platform (an optional dependency,
// chosen by its os and cpu fields) and runs it in place of itself, with the
// same arguments, standard streams, working directory and environment.
'use strict';

const { spawn } = require('node:child_process');
const os = require('node:os');

const version = require('../package.json').version;
const platforms = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];

function fail(lines) {
  for (const line of lines) process.stderr.write(`devproxy: ${line}\n`);
  process.exit(1);
}

function binary() {
  const override = process.env.DEVPROXY_BINARY;
  if (override) return override;
  const platform = `${process.platform}-${process.arch}`;
  const pkg = `@devproxy/${platform}`;
  if (!platforms.includes(platform)) {
    fail([
      `error: devproxy ${version} has no binary for this platform (${platform})`,
      `hint: there are binaries for ${platforms.join(', ')}`,
      `hint: elsewhere, build one with Go (go install github.com/devproxy/devproxy@v${version}) and set DEVPROXY_BINARY to its path`,
    ]);
  }
  const file = process.platform === 'win32' ? 'devproxy.exe' : 'devproxy';
  try {
    return require.resolve(`${pkg}/bin/${file}`);
  } catch {
    fail([
      `error: the devproxy binary for this platform (${platform}) is missing: the package ${pkg} is not installed`,
      `hint: npm installs it as an optional dependency of devproxy; it is left out when optional dependencies are`,
      `hint: omitted (--omit=optional, --no-optional) or when the lock file was made on another platform`,
      `hint: install it with: npm install --save-optional ${pkg}@${version}`,
      `hint: or set DEVPROXY_BINARY to the path of a devproxy binary`,
    ]);
  }
}

const bin = binary();
const posix = process.platform !== 'win32';
// On POSIX the binary runs in a session of its own, so that a signal
// reaches it only through this launcher, once. Without that, Ctrl-C in a
// terminal would reach it directly as well as through us, and a second
// SIGINT makes devproxy exit at once instead of shutting down cleanly. On
// Windows, Ctrl-C goes to every process of the console, the binary
// included, so there is nothing to forward.
const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit', detached: posix });

// Under npm exec (npx) or npm run, one Ctrl-C reaches this launcher twice:
// from the terminal and from npm, which forwards it. A repeat of the same
// signal within this many milliseconds is taken as that same keypress; a
// person's second Ctrl-C, to stop at once, comes later.
const repeatMs = 200;
const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const last = new Map();
function forward(signal) {
  const now = Date.now();
  if (now - (last.get(signal) ?? -Infinity) < repeatMs) return;
  last.set(signal, now);
  if (posix && child.exitCode === null && child.signalCode === null) child.kill(signal);
}
for (const signal of forwarded) process.on(signal, forward);

child.on('error', (err) => {
  const why = { ENOENT: 'no such file', EACCES: 'permission denied (is it executable?)' }[err.code] ?? err.message;
  if (process.env.DEVPROXY_BINARY) {
    fail([
      `error: cannot run DEVPROXY_BINARY=${bin}: ${why}`,
      'hint: point DEVPROXY_BINARY at a devproxy binary, or unset it to run the one npm installed',
    ]);
  }
  fail([`error: cannot run ${bin}: ${why}`, 'hint: reinstall devproxy (npm install), or set DEVPROXY_BINARY to the path of a devproxy binary']);
});

child.on('exit', (code, signal) => {
  if (signal === null) {
    process.exit(code);
  }
  // devproxy died of a signal: die of the same one, so that our parent (a
  // shell, npm) sees what happened.
  for (const s of forwarded) process.removeListener(s, forward);
  process.kill(process.pid, signal);
  // Reached only for a signal that does not end a Node process.
  process.exit(128 + (os.constants.signals[signal] ?? 0));
});
