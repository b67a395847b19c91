import Ready from '../../ready';

// A route the tests open directly, as a bookmarked deep link.
export default function DeepLink() {
  return (
    <main>
      <h1>deep link</h1>
      <Ready />
    </main>
  );
}
