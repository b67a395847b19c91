const { createProxyMiddleware } = require('http-proxy-middleware');

module.exports = function (app) {
  app.use(
    '/api',
    createProxyMiddleware({
      target: 'http://localhost:5000',
      changeOrigin: true,
      pathRewrite: { '^/api': '' },
    }),
  );
  app.use(createProxyMiddleware(['/auth', '/login'], { target: 'http://localhost:7001', changeOrigin: true }));
  app.use(
    createProxyMiddleware('/tenant', {
      target: 'http://localhost:5002',
      changeOrigin: true,
      router: (req) => (req.headers.host.startsWith('a.') ? 'http://localhost:5003' : 'http://localhost:5002'),
    }),
  );
  app.use(
    createProxyMiddleware((pathname) => pathname.endsWith('.json'), {
      target: 'http://localhost:5004',
    }),
  );
  app.use('/health', (req, res) => res.end('ok'));
};
