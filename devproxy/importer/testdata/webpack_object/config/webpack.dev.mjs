export default (env, argv) => ({
  mode: argv.mode,
  devServer: {
    client: { webSocketURL: 'auto://0.0.0.0:0/ws' },
    proxy: {
      '/api': { target: 'http://localhost:5000', changeOrigin: true, pathRewrite: { '^/api': '/v2' } },
      '/static': 'http://localhost:5001',
    },
  },
});
