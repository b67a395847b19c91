/** @type {import('@sveltejs/kit').Config} */
const config = {};

export default config;
