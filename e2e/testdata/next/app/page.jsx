import Label from './label';
import Ready from './ready';

export default function Home() {
  return (
    <main>
      <Label />
      <Ready />
    </main>
  );
}
