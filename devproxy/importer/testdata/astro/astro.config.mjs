// Astro passes its vite key to the Vite it runs on.
export default {
  vite: {
    server: {
      proxy: { '/api': { target: 'http://localhost:5000', changeOrigin: true } },
    },
  },
};
