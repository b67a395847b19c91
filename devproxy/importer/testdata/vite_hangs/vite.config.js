// Waits for a server that never answers, as a config that fetches its
// settings at load time would.
await new Promise(() => setInterval(() => {}, 1000));
export default {};
