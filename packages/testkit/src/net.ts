import { createServer, connect } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** An OS-assigned free TCP port on 127.0.0.1 (free at the time of the call). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
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
