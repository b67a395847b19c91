import { defineConfig, type ProxyOptions } from 'vite';

const api: ProxyOptions = {
  target: 'http://localhost:5000',
  changeOrigin: true,
  rewrite: (path: string) => path.replace(/^\/api/, ''),
};

export default defineConfig({
  server: {
    port: 5174,
    proxy: {
      '/api': api,
      '/auth': 'http://localhost:7001',
      '^/graphql/.*': { target: 'http://localhost:4000', changeOrigin: true, ws: true },
      '^/v[0-9]+/': { target: 'http://localhost:5002', changeOrigin: true },
      '/socket': { target: 'ws://localhost:5001', ws: true, changeOrigin: true },
      '/secure': {
        target: 'https://localhost:7443',
        secure: false,
        changeOrigin: true,
        headers: { 'X-Dev-User': 'alice' },
      },
      '/v1': { target: 'http://localhost:5003', changeOrigin: true, rewrite: (p) => p.replace(/^\/v1/, '/api/v1') },
      '/legacy': {
        target: 'http://localhost:5004',
        changeOrigin: true,
        bypass: (req) => (req.headers.accept?.includes('html') ? '/index.html' : undefined),
      },
      '/slow': { target: 'http://localhost:5006', changeOrigin: true, proxyTimeout: 120000 },
      '/shout': { target: 'http://localhost:5005', changeOrigin: true, rewrite: (p) => p.toUpperCase() },
    },
  },
});
