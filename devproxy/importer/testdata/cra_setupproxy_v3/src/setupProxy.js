const { createProxyMiddleware } = require('http-proxy-middleware');

// http-proxy-middleware 3 forwards the path below the mount point.
module.exports = (app) => {
  app.use('/api', createProxyMiddleware({ target: 'http://localhost:5000', changeOrigin: true }));
  app.use(createProxyMiddleware({ pathFilter: '/auth', target: 'http://localhost:7001', changeOrigin: true }));
};
