// What the front proxy does against abuse and failure, through the real stack: Envoy's own
// error replies are JSON with a public code and no internals (those go to the access log),
// unknown key ids are answered from a short negative cache, slow clients are cut, HTTP/2 limits
// are announced, and one client over its rate limit gets a JSON 429 while others are served.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { connect as h2connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import {
  type ErrorBody,
  type RootKey,
  basic,
  createRootKey,
  expectJsonError,
  upstreamRequests,
} from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Words that would reveal internals in a reply to a client. */
const INTERNALS = /127\.0\.0\.1|:\d{2,5}\b|grpc|ext_proc|upstream|connect|reset|refused|_/i;
const expectNoInternals = (body: ErrorBody) => {
  expect(body.details).not.toMatch(INTERNALS);
  expect(body.message).not.toMatch(INTERNALS);
};

describe('edge limits (default rate limit)', () => {
  let stack: FrontProxyStack;
  let root: RootKey;
  const call = (keyId: string, secret: string, path = '/api/v0/echo') =>
    fetch(`${stack.proxyUrl}${path}`, { headers: { authorization: basic(keyId, secret) } });

  beforeAll(async () => {
    // A long negative-cache TTL makes "answered from memory" observable with auth stopped.
    stack = await startFrontProxyStack({ authnEnv: { UNKNOWN_KEY_CACHE_TTL_MS: '30000' } });
    root = await createRootKey(stack.authUrl);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('an unknown key id is answered from the negative cache: no auth call per request', async () => {
    const bogus = 'ak_neverexisted0000000000';
    await expectJsonError(await call(bogus, 'x'.repeat(43)), 401, 'UnknownKey');
    await stack.stopPart('auth');
    try {
      // Auth is down: the same unknown id is still a 401 (from memory), another one is a 503.
      await expectJsonError(await call(bogus, 'y'.repeat(43)), 401, 'UnknownKey');
      await expectJsonError(
        await call('ak_neverseen00000000000000', 'x'.repeat(43)),
        503,
        'AuthBackendUnavailable',
      );
    } finally {
      await stack.startPart('auth');
    }
  });

  it("Envoy's own replies carry a public code, never internal details (upstream down)", async () => {
    // The processor reconnects to the restarted auth service first.
    await eventually(async () => {
      const r = await call(root.key_id, root.secret);
      await r.body?.cancel();
      return r.status === 200 ? true : undefined;
    }, 20_000);
    await stack.stopPart('echo');
    try {
      const res = await call(root.key_id, root.secret);
      const body = await expectJsonError(res, 503, 'ServiceUnavailable');
      expect(body).toEqual({
        message: 'Service Unavailable',
        status: 503,
        details: 'ServiceUnavailable The service is unavailable',
      });
    } finally {
      await stack.startPart('echo');
    }
  });

  it("Envoy's own replies carry a public code, never internal details (processor down)", async () => {
    await stack.stopPart('authn-processor');
    try {
      const res = await call(root.key_id, root.secret);
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(res.headers.get('content-type')).toContain('application/json');
      const body = (await res.json()) as ErrorBody;
      expect(body.status).toBe(res.status);
      expect(body.details).toMatch(/^[A-Za-z]+ [A-Z][a-z ]+$/);
      expectNoInternals(body);
    } finally {
      await stack.startPart('authn-processor');
    }
  });

  it('the internals stay in the access log', async () => {
    // Envoy flushes its access log every 10 s or so: poll.
    // Echo sits behind its sidecar Envoy: the sidecar logs why echo could not be reached.
    const read = (file = stack.envoyAccessLog) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, string | null>);
    const lines = await eventually(() => {
      const processorDown = read().find((l) => String(l.details).includes('ext_proc'));
      const echoDown = read(stack.sidecarAccessLog).find((l) => /UF|URX/.test(String(l.flags)));
      return processorDown && echoDown ? { processorDown, echoDown } : undefined;
    }, 40_000).catch((err: Error) => {
      const tail = [...read().slice(-4), ...read(stack.sidecarAccessLog).slice(-4)];
      throw new Error(`${err.message}: ${JSON.stringify(tail)}`);
    });
    expect(lines.processorDown.details).toMatch(/ext_proc/);
    expect(lines.echoDown.flags).toMatch(/UF|URX/);
    expect(lines.processorDown.client).toBe('127.0.0.1');
  }, 60_000);

  it('a client that sends its headers too slowly is cut (request_headers_timeout 10 s)', async () => {
    const started = Date.now();
    const outcome = await new Promise<{ closedAfterMs: number; reply: string }>((resolve) => {
      const socket = connect(stack.ports.proxy, '127.0.0.1');
      let reply = '';
      let n = 0;
      // One header byte a second: the connection is never idle, the headers never complete.
      const timer = setInterval(() => {
        if (!socket.destroyed) socket.write(n++ % 2 === 0 ? 'x' : '-');
        if (Date.now() - started > 40_000) socket.destroy();
      }, 1_000);
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (reply += d));
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ closedAfterMs: Date.now() - started, reply });
      });
      socket.on('error', () => undefined);
      socket.write('GET /api/v0/echo HTTP/1.1\r\nHost: x\r\n');
    });
    expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(9_000);
    expect(outcome.closedAfterMs).toBeLessThan(30_000);
    expect(outcome.reply).toMatch(/^HTTP\/1\.1 408/);
    expect(outcome.reply).toContain('"details":"RequestTimeout');
  }, 60_000);

  it('HTTP/2 clients are told the stream and window limits', async () => {
    const session = h2connect(stack.proxyUrl);
    try {
      const settings = await new Promise<import('node:http2').Settings>((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      expect(settings.maxConcurrentStreams).toBe(100);
      expect(settings.initialWindowSize).toBe(65_536);
    } finally {
      session.close();
    }
  });

  it('a request whose headers exceed the limit gets a JSON 431 without internals', async () => {
    const res = await fetch(`${stack.proxyUrl}/api/v0/echo`, {
      headers: { 'x-big': 'a'.repeat(40 * 1024) },
    });
    expectNoInternals(await expectJsonError(res, 431, 'HeadersTooLarge'));
  });
});

/** GET from a chosen loopback source address (each is its own client for the rate limit). */
function getFrom(
  localAddress: string,
  port: number,
  auth: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v0/echo',
        headers: { authorization: auth },
        agent: false,
        localAddress,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            body,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('per-client rate limit (lowered to 2 req/s, bursts of 5)', () => {
  let stack: FrontProxyStack;
  let auth: string;

  beforeAll(async () => {
    stack = await startFrontProxyStack({ envoyVars: { PER_CLIENT_RPS: 2, PER_CLIENT_BURST: 5 } });
    const root = await createRootKey(stack.authUrl);
    auth = basic(root.key_id, root.secret);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a burst from one client gets JSON 429s past its bucket; another client is still served', async () => {
    const before = await upstreamRequests(stack.envoyAdminUrl);
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => getFrom('127.0.0.1', stack.ports.proxy, auth)),
    );
    const ok = burst.filter((r) => r.status === 200).length;
    const limited = burst.filter((r) => r.status === 429);
    // 5 in the bucket, plus at most a refill or two while the burst was sent.
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(9);
    expect(ok + limited.length).toBe(20);
    for (const r of limited) {
      expect(r.type).toContain('application/json');
      expect(JSON.parse(r.body)).toEqual({
        message: 'Too Many Requests',
        status: 429,
        details: 'RateLimited Too many requests from this client',
      });
    }
    // Limited requests never reached the upstream.
    expect((await upstreamRequests(stack.envoyAdminUrl)) - before).toBe(ok);

    // Another address is another client, with its own bucket.
    expect((await getFrom('127.0.0.2', stack.ports.proxy, auth)).status).toBe(200);

    // The first client's bucket refills (2 per second).
    const status = await eventually(async () => {
      const r = await getFrom('127.0.0.1', stack.ports.proxy, auth);
      return r.status === 200 ? r.status : undefined;
    }, 10_000);
    expect(status).toBe(200);
  });
});
