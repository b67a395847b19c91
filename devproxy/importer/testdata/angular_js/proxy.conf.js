const target = process.env.DEVPROXY_TEST_TARGET || 'http://localhost:8000';

module.exports = [
  {
    context: ['/api', '/auth'],
    target,
    changeOrigin: true,
  },
];
