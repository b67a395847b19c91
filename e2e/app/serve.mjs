// Starts one of the frontends that devproxy's browser tests put behind it,
// with the settings the README gives for running behind devproxy, and
// prints "ready" once it serves.
//
//	node serve.mjs vite ROOT PORT         a Vite dev server for the app in ROOT
//	node serve.mjs vite-config ROOT       a Vite dev server run by ROOT/vite.config.js
//	node serve.mjs webpack ROOT PORT      a webpack-dev-server for the app in ROOT
//	node serve.mjs vite-build ROOT OUT    a production build of ROOT into OUT
import path from 'node:path';

const [mode, root, arg] = process.argv.slice(2);

if (mode === 'vite') {
  const { createServer } = await import('vite');
  // Nothing to set behind devproxy: the client opens its HMR socket on the
  // page's own origin, which is devproxy's.
  const server = await createServer({
    configFile: false,
    root,
    cacheDir: path.join(root, '.vite'),
    logLevel: 'warn',
    clearScreen: false,
    server: { port: Number(arg), strictPort: true },
  });
  await server.listen();
  console.log('ready', Number(arg));
} else if (mode === 'vite-config') {
  // The app's own vite.config.js decides everything, as `vite` would run it.
  const { createServer } = await import('vite');
  const server = await createServer({
    root,
    configFile: path.join(root, 'vite.config.js'),
    cacheDir: path.join(root, '.vite'),
    logLevel: 'warn',
    clearScreen: false,
  });
  await server.listen();
  console.log('ready', server.config.server.port);
} else if (mode === 'vite-build') {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: { outDir: arg, emptyOutDir: true },
  });
  console.log('ready', arg);
} else if (mode === 'webpack') {
  const { default: webpack } = await import('webpack');
  const { default: WebpackDevServer } = await import('webpack-dev-server');
  // webpack-dev-server pings its sockets every second and terminates one
  // whose pong it has not read by the next tick. When the event loop is
  // busy across a tick (a rebuild, on a 2-core machine shared with other
  // test suites), the pong waits unread behind the timer and a healthy
  // socket is cut: the page's client reconnects, and the check that the
  // hot-reload socket stays open across a devproxy reload fails for a
  // reason of the dev server's own. This is a setting for the test
  // machine, not one for users: the beat still pings across devproxy
  // during the scene, only a stall must now last ten seconds to cut.
  const { default: WebsocketServer } = await import('webpack-dev-server/lib/servers/WebsocketServer.js');
  WebsocketServer.heartbeatInterval = 10_000;
  const compiler = webpack({
    mode: 'development',
    context: root,
    entry: './main.js',
    output: { path: path.join(root, 'dist'), filename: 'main.js', publicPath: '/' },
    infrastructureLogging: { level: 'warn' },
    stats: 'errors-warnings',
  });
  const server = new WebpackDevServer(
    {
      port: Number(arg),
      static: { directory: path.join(root, 'public'), watch: false },
      // Deep links get index.html, as a single-page app needs.
      historyApiFallback: true,
      // The one setting behind devproxy: without it the client connects its
      // socket to the dev server's own port, around devproxy. auto and
      // 0.0.0.0:0 mean the page's own protocol, host and port.
      client: { webSocketURL: 'auto://0.0.0.0:0/ws' },
    },
    compiler,
  );
  await server.start();
  console.log('ready', Number(arg));
} else {
  console.error(`serve.mjs: unknown mode ${JSON.stringify(mode)}`);
  process.exit(2);
}
