if (!process.env.DEVPROXY_TEST_API_URL) {
  throw new Error('DEVPROXY_TEST_API_URL is not set');
}
export default { server: { proxy: { '/api': process.env.DEVPROXY_TEST_API_URL } } };
