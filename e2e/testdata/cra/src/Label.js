// The browser tests edit this text and expect Fast Refresh to show it.
export default function Label() {
  return <h1 id="label">version 1</h1>;
}
