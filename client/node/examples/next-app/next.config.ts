import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Loaded from node_modules at run time, not bundled into each route: one module, so one
  // connection pool per admin URL for the whole server.
  serverExternalPackages: ['claudable-client'],
  // This app sits inside the package's directory, which has a lockfile of its own.
  outputFileTracingRoot: __dirname,
};

export default nextConfig;
