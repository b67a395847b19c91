/** @type {import('next').NextConfig} */
const nextConfig = {
  async rewrites() {
    return {
      beforeFiles: [{ source: '/api/:path*', destination: 'http://localhost:5000/api/:path*' }],
      afterFiles: [
        { source: '/ext/:path*', destination: 'https://api.example.test/:path*' },
        { source: '/about', destination: '/' },
        { source: '/health', destination: 'http://localhost:5000/healthz' },
      ],
    };
  },
};

export default nextConfig;
