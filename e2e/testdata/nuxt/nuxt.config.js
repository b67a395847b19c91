export default defineNuxtConfig({
  compatibilityDate: '2026-01-01',
  telemetry: false,
  app: {
    head: {
      title: 'devproxy e2e (Nuxt)',
      link: [{ rel: 'icon', href: 'data:,' }],
    },
  },
});
