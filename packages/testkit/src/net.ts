import { createServer, connect } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './pid';

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
 * Ports handed out by any process on this machine, one file per port holding the owner's pid.
 * Several test processes pick ports at once (vitest workers, the local and the testcontainers
 * suites side by side in CI), and "free" is only true until the port's owner binds it: two of
 * them could pick the same one, and the loser's server fails with EADDRINUSE while its stack's
 * readiness check answers from the other's. A reservation closes that window.
 */
export const PORT_RESERVATIONS_DIR = join(tmpdir(), 'edge-testkit-ports');

/**
 * Reserves `port` for this process; false when another live process holds it. A reservation
 * left by a dead process is removed (the port is not taken on the same call, so two processes
 * cleaning it up at once cannot both claim it). Reservations end with the process.
 */
export function reservePort(port: number, dir = PORT_RESERVATIONS_DIR): boolean {
  const file = join(dir, String(port));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    reserved.add(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return true; // no shared dir: bind check only
  }
  clearIfStale(file);
  return false;
}

/** Removes a reservation whose owner is gone; true when it did. */
function clearIfStale(file: string): boolean {
  try {
    const owner = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !pidAlive(owner)) {
      unlinkSync(file);
      return true;
    }
  } catch {
    // gone meanwhile, or unreadable: either way not cleared here
  }
  return false;
}

/**
 * Removes the reservations of processes that are gone (a test worker killed by a signal never
 * runs its exit handler). freePort runs it once per process; `reservePort` clears any stale
 * file it meets as well.
 */
export function sweepReservations(dir = PORT_RESERVATIONS_DIR): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) if (clearIfStale(join(dir, name))) removed++;
  return removed;
}

let swept = false;
const reserved = new Set<string>();
process.once('exit', () => {
  for (const file of reserved) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
});

/**
 * A free TCP port on 127.0.0.1 (free at the time of the call, and reserved machine-wide for
 * this process: see PORT_RESERVATIONS_DIR), chosen at random below the kernel's ephemeral range
 * so no outgoing connection can grab it before the caller binds.
 */
export async function freePort(): Promise<number> {
  if (!swept) {
    swept = true;
    sweepReservations();
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = RANGE_LOW + Math.floor(Math.random() * (RANGE_HIGH - RANGE_LOW));
    if (handedOut.has(port)) continue;
    if (!reservePort(port)) continue;
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
