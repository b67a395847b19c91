import type { NextConfig } from 'next';

type Rewrite = { source: string; destination: string };

const api: string = process.env.API_ORIGIN ?? 'http://localhost:5000';

function external(prefix: string, origin: string): Rewrite {
  return { source: `${prefix}/:path*`, destination: `${origin}${prefix}/:path*` };
}

const nextConfig: NextConfig = {
  async rewrites(): Promise<Rewrite[]> {
    return [
      external('/api', api),
      { source: '/docs/:path*', destination: 'https://docs.example.test/:path*' },
      { source: '/old-about', destination: '/about' },
    ];
  },
};

export default nextConfig;
