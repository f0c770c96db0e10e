import { createServer, connect } from 'node:net';
import { readFileSync } from 'node:fs';

export const LOOPBACK = '127.0.0.1';

/**
 * The lowest port the kernel hands out for outgoing connections. A listener port picked
 * inside that range can be taken by any client socket (a Kafka or Postgres client, Envoy's
 * upstream connections) between the pick and the bind, so test ports come from below it.
 */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    const n = Number(low);
    if (Number.isInteger(n) && n > 2048) return n;
  } catch {
    // not Linux: fall through to the IANA default
  }
  return 49152;
}

const RANGE_HIGH = ephemeralLow();
const RANGE_LOW = Math.max(1024, RANGE_HIGH - 16384);
/** Ports this process already handed out: never hand one out twice. */
const handedOut = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1 (free at the time of the call), chosen at random below the
 * kernel's ephemeral range so no outgoing connection can grab it before the caller binds.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = RANGE_LOW + Math.floor(Math.random() * (RANGE_HIGH - RANGE_LOW));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found in ${RANGE_LOW}-${RANGE_HIGH - 1} after 200 tries`);
}

/** Resolves true when a TCP connection to host:port succeeds, false otherwise. */
export function canConnect(port: number, host = LOOPBACK, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Sends `request` and resolves with whatever arrives first (or '' on error/timeout). */
export function tcpExchange(
  port: number,
  request: string,
  host = LOOPBACK,
  timeoutMs = 1000,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (answer: string): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(''));
    socket.once('connect', () => socket.write(request));
    socket.once('data', (buf: Buffer) => done(buf.toString('utf8')));
    socket.once('error', () => done(''));
  });
}
