import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The first port of the kernel's ephemeral range (ports it gives outgoing connections and `listen(0)`),
 * 32768 where the range cannot be read (Linux's default).
 */
function ephemeralFloor(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const port = Number(low);
    return Number.isInteger(port) && port > 2048 ? port : 32768;
  } catch {
    return 32768;
  }
}

const FIRST = 20000;
const LAST = Math.max(FIRST + 1000, ephemeralFloor()) - 1;
const handedOut = new Set<number>();

async function listens(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    // No host: the dual-stack wildcard, which meets a server on 127.0.0.1, on 0.0.0.0 and on ::.
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free a moment ago, for servers that cannot be given port 0. It lies below the kernel's
 * ephemeral range: a port from `listen(0)` can be taken by any outgoing connection (a browser's, a
 * charger's) between this check and the server's listen, which a test saw as "port already in use"
 * (CI, 2026-11-26). No port is handed out twice in one process.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await listens(port)) return port;
  }
  throw new Error(`no free TCP port found between ${FIRST} and ${LAST}`);
}
