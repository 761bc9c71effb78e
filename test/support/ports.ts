// Ports for servers a test starts in another process. Random numbers collide with the kernel's own
// ephemeral ports (32768-60999 here, used by every outgoing connection); instead ask the kernel for free
// ones by binding port 0, then release them for the child to take.
import { createServer } from 'node:net';

async function onePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await onePort());
  return [...ports];
}
