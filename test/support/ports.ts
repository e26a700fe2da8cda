import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on right now, for a test's own PostgreSQL. A random guess could
 * land on a port in use (this range overlaps the kernel's ephemeral ports), and PostgreSQL then
 * fails to start; the kernel's own pick for port 0 is free when it is handed out.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}
