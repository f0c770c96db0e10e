// Audit logging end to end: real Envoy front proxy (logging first, observability mode), real
// authn, echo, logging processor, Kafka and the consumer with Postgres.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { logV1 } from '@edge/protos';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import { basic, createRootKey, type EchoBody, type RootKey } from './support';

interface RecordView {
  request_id: string;
  tenant: string;
  user_id: string;
  key_id: string;
  status: number;
  method: string;
  path: string;
  query: string;
  route: string;
  processors: string[];
  request_headers: Record<string, string>;
}
interface Page {
  records: RecordView[];
  next_cursor: string | null;
}

let stack: FrontProxyStack;
let db: Client;
let kafka: Kafka;
let a: RootKey;
let b: RootKey;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function echo(key: RootKey, path = '/api/v0/echo', init: RequestInit = {}): Promise<string> {
  const res = await fetch(`${stack.proxyUrl}${path}`, {
    ...init,
    headers: { authorization: basic(key.key_id, key.secret), ...(init.headers ?? {}) },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as EchoBody;
  const id = body.headers['x-request-id'];
  expect(typeof id).toBe('string');
  return id as string;
}

/**
 * The authn processor's cache and stream state, Envoy's counters for its cluster and every
 * cluster's active and timed-out requests (where a request was held).
 */
async function authnSnapshot(stack: FrontProxyStack, when: string): Promise<string> {
  const metrics = await (
    await fetch(`http://127.0.0.1:${stack.ports.authnMetrics}/metrics`, {
      signal: AbortSignal.timeout(5_000),
    })
  ).text();
  const stats = await (
    await fetch(
      `${stack.envoyAdminUrl}/stats?filter=${encodeURIComponent('^(cluster\\.authn_processor\\.(upstream_(rq|cx)_|health_check)|http\\.front\\.ext_proc\\.|cluster\\.[^.]+\\.upstream_rq_(active|timeout|pending_active)$)')}`,
      { signal: AbortSignal.timeout(5_000) },
    )
  ).text();
  const authn = metrics.split('\n').filter((l) => l.startsWith('authn_'));
  const envoy = stats.split('\n').filter((l) => !/: 0$/.test(l) && l !== '');
  return `--- ${when}: authn metrics ---\n${authn.join('\n')}\n--- Envoy ---\n${envoy.join('\n')}`;
}

async function storedCount(ids: readonly string[]): Promise<number> {
  const r = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM access_records WHERE request_id = ANY($1)',
    [ids],
  );
  return Number(r.rows[0]!.n);
}

/**
 * Where records were when they were not all stored: how many are in the table, the logging
 * processor's and the consumer's metrics and health, and the tail of both logs.
 */
async function pipelineSnapshot(ids: readonly string[]): Promise<string> {
  const get = async (url: string): Promise<string> => {
    try {
      return await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
    } catch (err) {
      return `${url}: ${String(err)}`;
    }
  };
  const pick = (text: string, prefix: string): string =>
    text
      .split('\n')
      .filter((l) => l.startsWith(prefix))
      .join('\n');
  const tail = (part: 'logging-processor' | 'consumer'): string => {
    const file = stack.logOf(part);
    if (file === undefined) return `${part}: not running`;
    try {
      return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
    } catch (err) {
      return `${file}: ${String(err)}`;
    }
  };
  const stored = await storedCount(ids).catch((err: unknown) => String(err));
  return [
    `stored ${stored} of ${ids.length}`,
    '--- logging processor metrics ---',
    pick(await get(`http://127.0.0.1:${stack.ports.loggingMetrics}/metrics`), 'logging_'),
    `health: ${await get(`http://127.0.0.1:${stack.ports.loggingMetrics}/health`)}`,
    '--- consumer metrics ---',
    pick(await get(`${stack.consumerUrl}/metrics`), 'consumer_'),
    `health: ${await get(`${stack.consumerUrl}/health`)}`,
    '--- logging processor log ---',
    tail('logging-processor'),
    '--- consumer log ---',
    tail('consumer'),
  ].join('\n');
}

/** Every message of a topic from the beginning, raw. */
async function readTopic(
  topic: string,
  until: (msgs: KafkaMessage[]) => boolean,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `e2e-reader-${randomUUID()}` });
  const msgs: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        msgs.push(message);
        return Promise.resolve();
      },
    });
    await waitFor(`messages on ${topic}`, () => Promise.resolve(until(msgs) ? true : undefined));
    return msgs;
  } finally {
    await consumer.disconnect();
  }
}

beforeAll(async () => {
  stack = await startFrontProxyStack();
  db = new Client({ connectionString: stack.postgres.url });
  await db.connect();
  kafka = new Kafka({ brokers: stack.kafka!.brokers, logLevel: logLevel.NOTHING });
  a = await createRootKey(stack.authUrl);
  b = await createRootKey(stack.authUrl);
}, 180_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe('audit log through the front proxy', () => {
  const secretQuery = `token=tok-${randomUUID()}`;
  const cookie = `sid=cookie-${randomUUID()}`;
  let requestId = '';

  it('stores a request with its tenant, status and redactions; only that tenant sees it', async () => {
    requestId = await echo(a, `/api/v0/echo/orders?${secretQuery}&page=2`, {
      headers: { cookie, 'x-tenant-id': b.tenant /* forged: must not be believed */ },
    });
    const auth = { authorization: basic(a.key_id, a.secret) };
    const rec = await waitFor('the record in the query API', async () => {
      const res = await fetch(`${stack.proxyUrl}/api/v0/logs/records/${requestId}`, {
        headers: auth,
      });
      return res.status === 200 ? ((await res.json()) as RecordView) : undefined;
    });
    expect(rec).toMatchObject({
      request_id: requestId,
      tenant: a.tenant,
      user_id: a.user_id,
      key_id: a.key_id,
      status: 200,
      method: 'GET',
      path: '/api/v0/echo/orders',
      query: 'token=[redacted]&page=2',
      route: 'api',
    });
    expect(rec.processors).toEqual(['logging', 'authn']);
    expect(rec.request_headers.authorization).toBe('[redacted]');
    expect(rec.request_headers.cookie).toBe('[redacted]');

    // The list: filters and cursor paging.
    const second = await echo(a, '/api/v0/echo/orders');
    await waitFor('the second record', async () =>
      (await storedCount([second])) === 1 ? true : undefined,
    );
    const page1 = (await (
      await fetch(`${stack.proxyUrl}/api/v0/logs/records?path_prefix=/api/v0/echo/orders&limit=1`, {
        headers: auth,
      })
    ).json()) as Page;
    expect(page1.records).toHaveLength(1);
    expect(page1.next_cursor).not.toBeNull();
    const page2 = (await (
      await fetch(
        `${stack.proxyUrl}/api/v0/logs/records?path_prefix=/api/v0/echo/orders&limit=1&cursor=${page1.next_cursor}`,
        { headers: auth },
      )
    ).json()) as Page;
    expect(page2.records).toHaveLength(1);
    expect(page2.records[0]!.request_id).not.toBe(page1.records[0]!.request_id);

    // Another tenant sees none of it.
    const other = { authorization: basic(b.key_id, b.secret) };
    const res = await fetch(`${stack.proxyUrl}/api/v0/logs/records/${requestId}`, {
      headers: other,
    });
    expect(res.status).toBe(404);
    const list = (await (
      await fetch(`${stack.proxyUrl}/api/v0/logs/records?limit=500`, { headers: other })
    ).json()) as Page;
    expect(list.records.every((r) => r.tenant === b.tenant)).toBe(true);

    // The admin view needs admin:read: a root key (keys:read, keys:write) is refused at the proxy.
    const refused = await fetch(`${stack.proxyUrl}/api/v0/admin/logs/records`, { headers: other });
    expect(refused.status).toBe(403);
    // With the scope (as the proxy's authn sets it), every tenant's records, filterable by tenant.
    const admin = (await (
      await fetch(`${stack.consumerUrl}/api/v0/admin/logs/records?tenant=${a.tenant}&limit=500`, {
        headers: { 'x-tenant-id': b.tenant, 'x-scopes': 'admin:read' },
      })
    ).json()) as Page;
    expect(admin.records.map((r) => r.request_id)).toContain(requestId);
    expect(admin.records.every((r) => r.tenant === a.tenant)).toBe(true);
  });

  it('refuses bad queries with JSON 4xx and calls without an identity', async () => {
    const auth = { authorization: basic(a.key_id, a.secret) };
    for (const q of [
      'limit=0',
      'status=abc',
      'from=yesterday',
      'cursor=!!',
      'cursor=Zm9v',
      'x=1',
    ]) {
      const res = await fetch(`${stack.proxyUrl}/api/v0/logs/records?${q}`, { headers: auth });
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { status: number }).status).toBe(400);
    }
    // Straight to the consumer (bypassing authn): no identity, no records.
    const direct = await fetch(`${stack.consumerUrl}/api/v0/logs/records`);
    expect(direct.status).toBe(401);
    const forged = await fetch(`${stack.consumerUrl}/api/v0/admin/logs/records`, {
      headers: { 'x-tenant-id': a.tenant },
    });
    expect(forged.status).toBe(403);
    // Through the proxy without credentials: authn refuses.
    expect((await fetch(`${stack.proxyUrl}/api/v0/logs/records`)).status).toBe(401);
  });

  it('refused (401, 403), unrouted (404) and Envoy-answered (503) requests: real status, once each', async () => {
    const marker = randomUUID();
    const r401 = await fetch(`${stack.proxyUrl}/api/v0/echo/refused-${marker}`, {
      headers: { authorization: basic(a.key_id, 'wrong-secret') },
    });
    expect(r401.status).toBe(401);
    // A root key lacks admin:read: authn answers 403.
    const r403 = await fetch(`${stack.proxyUrl}/api/v0/admin/forbidden-${marker}`, {
      headers: { authorization: basic(a.key_id, a.secret) },
    });
    expect(r403.status).toBe(403);
    const r404 = await fetch(`${stack.proxyUrl}/nowhere-${marker}`);
    expect(r404.status).toBe(404);
    // The consumer down: Envoy itself answers 503 (connection refused) after authn let it in.
    await stack.stopPart('consumer');
    let r503: Response;
    try {
      r503 = await fetch(`${stack.proxyUrl}/api/v0/logs/records/unavailable-${marker}`, {
        headers: { authorization: basic(a.key_id, a.secret) },
      });
    } finally {
      await stack.startPart('consumer');
    }
    expect(r503.status).toBe(503);
    const sizes = [r401, r403, r404, r503].map(async (r) => (await r.arrayBuffer()).byteLength);

    interface FullView extends RecordView {
      response_size: number;
      response_code_details: string;
    }
    const admin = { 'x-tenant-id': a.tenant, 'x-scopes': 'admin:read' };
    const view = async (path: string): Promise<FullView> =>
      waitFor(`the record of ${path} in the query API`, async () => {
        const res = await fetch(
          `${stack.consumerUrl}/api/v0/admin/logs/records?path_prefix=${encodeURIComponent(path)}`,
          { headers: admin },
        );
        const page = (await res.json()) as { records: FullView[] };
        return page.records.length > 0 ? page.records : undefined;
      }).then((records) => {
        expect(records, path).toHaveLength(1);
        return records[0]!;
      });
    const got = [
      await view(`/api/v0/echo/refused-${marker}`),
      await view(`/api/v0/admin/forbidden-${marker}`),
      await view(`/nowhere-${marker}`),
      await view(`/api/v0/logs/records/unavailable-${marker}`),
    ];
    expect(got.map((r) => [r.status, r.route])).toEqual([
      [401, 'api'],
      [403, 'admin'],
      [404, 'no-route'],
      [503, 'logs'],
    ]);
    const bodySizes = await Promise.all(sizes);
    expect(got.map((r) => r.response_size)).toEqual(bodySizes);
    expect(got[0]!.response_code_details).toMatch(/^authn_/);
    expect(got[1]!.response_code_details).toMatch(/^authn_/);
    expect(got[2]!.response_code_details).toBe('direct_response');
    expect(got[3]!.response_code_details).toMatch(/connection|upstream/);
    // The identity comes from authn's dynamic metadata in the access-log entry.
    expect(got[0]!.tenant).toBe('');
    expect(got[3]).toMatchObject({ tenant: a.tenant, key_id: a.key_id });
    expect(got[3]!.processors).toContain('authn');

    // Published once each: one message per request on the topic. A second copy could only come
    // from a half published alone after the merge wait (MERGE_WAIT_MS, 3 s): wait past it.
    await new Promise((r) => setTimeout(r, 4_000));
    const ids = new Set(got.map((r) => r.request_id));
    const decode = (m: KafkaMessage) =>
      m.value === null ? '' : logV1.AccessRecord.decode(m.value).requestId;
    const msgs = await readTopic(stack.kafka!.topic, (m) => {
      const seen = new Set(m.map(decode));
      return [...ids].every((id) => seen.has(id));
    });
    const mine = msgs.filter((m) => ids.has(decode(m)));
    expect(mine).toHaveLength(4);
  });

  it('no secret reaches the topic or the table (raw bytes)', async () => {
    const password = `pw-${randomUUID()}`;
    const id = await echo(a, '/api/v0/echo/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': `key-${password}` },
      body: JSON.stringify({ user: 'u', password }),
    });
    await waitFor('the login record', async () =>
      (await storedCount([id])) === 1 ? true : undefined,
    );
    const secrets = [
      a.secret,
      Buffer.from(`${a.key_id}:${a.secret}`).toString('base64'),
      secretQuery.split('=')[1]!,
      cookie.split('=')[1]!,
      password,
    ];
    const msgs = await readTopic(stack.kafka!.topic, (m) =>
      m.some((x) => x.value !== null && logV1.AccessRecord.decode(x.value).requestId === id),
    );
    const topicBytes = Buffer.concat(
      msgs.flatMap((m) => [m.key ?? Buffer.alloc(0), m.value ?? Buffer.alloc(0)]),
    );
    const table = await db.query<{ t: string }>(
      'SELECT access_records::text AS t FROM access_records',
    );
    const tableBytes = Buffer.from(table.rows.map((r) => r.t).join('\n'));
    expect(tableBytes.length).toBeGreaterThan(0);
    for (const s of secrets) {
      expect(topicBytes.includes(Buffer.from(s)), `topic holds ${s.slice(0, 6)}…`).toBe(false);
      expect(tableBytes.includes(Buffer.from(s)), `table holds ${s.slice(0, 6)}…`).toBe(false);
    }
  });

  it('a malformed record goes to the dead-letter topic and the consumer goes on', async () => {
    const garbage = Buffer.concat([
      Buffer.from([0x0a, 0xff, 0xff, 0xff]),
      Buffer.from(randomUUID()),
    ]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: stack.kafka!.topic, messages: [{ key: 'x', value: garbage }] });
    await producer.disconnect();
    const dlq = await readTopic(stack.kafka!.deadLetterTopic, (m) =>
      m.some((x) => x.value?.equals(garbage) === true),
    );
    const hit = dlq.find((x) => x.value?.equals(garbage) === true)!;
    expect(hit.headers?.['x-dlq-reason']?.toString()).toMatch(/^DecodeError/);
    const after = await echo(a);
    await waitFor('a record after the bad one', async () =>
      (await storedCount([after])) === 1 ? true : undefined,
    );
  });

  it('a consumer killed mid-stream and restarted stores every record once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await echo(a));
    await stack.killPart('consumer');
    for (let i = 0; i < 40; i++) ids.push(await echo(a));
    await stack.startPart('consumer');
    await waitFor('all 80 records', async () =>
      (await storedCount(ids)) === 80 ? true : undefined,
    );
    const dup = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM (SELECT request_id FROM access_records WHERE request_id = ANY($1) GROUP BY request_id HAVING count(*) > 1) d',
      [ids],
    );
    expect(Number(dup.rows[0]!.n)).toBe(0);
  });

  it('Kafka stopped for 60 s under 100 requests/s: no request fails, no record is lost', async () => {
    const ids: string[] = [];
    const failures: string[] = [];
    const t0 = Date.now();
    let running = true;
    const auth = basic(a.key_id, a.secret);
    const inflight = new Set<Promise<void>>();
    // Fixed rate: 100 requests/s. A generator stalled by the loaded machine resumes the rate
    // instead of firing the missed requests at once (a burst of hundreds of requests is not
    // 100 requests/s, and would only test authn's 1 s message timeout under a stampede).
    let stalls = 0;
    // What the authn hop looked like when the first request failed, and at the end (a failure
    // here has been seen once, on a 2-core machine running other suites beside this one: Envoy's
    // 1 s message timeout to authn right after Kafka came back).
    const snapshots: Promise<string>[] = [];
    const snapshot = (when: string): Promise<string> =>
      authnSnapshot(stack, when).catch((err: unknown) => `${when}: ${String(err)}`);
    const fail = (what: string): void => {
      if (failures.length === 0) snapshots.push(snapshot(`first failure, ${what}`));
      failures.push(what);
    };
    const load = (async () => {
      let next = Date.now();
      while (running) {
        const wait = next - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else if (wait < -100) {
          stalls++;
          next = Date.now();
        }
        next += 10;
        const p = (async () => {
          try {
            const res = await fetch(`${stack.proxyUrl}/api/v0/echo/load`, {
              headers: { authorization: auth },
            });
            const body = (await res.json()) as EchoBody;
            if (res.status !== 200) {
              fail(`${res.status} at +${Date.now() - t0} ms: ${JSON.stringify(body)}`);
            } else ids.push(body.headers['x-request-id'] as string);
          } catch (err) {
            fail(`${String(err)} at +${Date.now() - t0} ms`);
          }
        })();
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
    })();
    const cpu = (part: 'logging-processor' | 'authn-processor'): number => {
      const pid = stack.pidOf(part);
      if (pid === undefined) return NaN;
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    };
    await new Promise((r) => setTimeout(r, 2_000));
    // The processor's CPU with Kafka up (10 s), then down (60 s): no retry storm, no busy loop.
    const up0 = cpu('logging-processor');
    await new Promise((r) => setTimeout(r, 10_000));
    const upPerS = (cpu('logging-processor') - up0) / 10;
    await stack.stopKafka();
    const stoppedAt = Date.now() - t0;
    const cpu0 = { logging: cpu('logging-processor'), authn: cpu('authn-processor') };
    await new Promise((r) => setTimeout(r, 60_000));
    const cpu1 = { logging: cpu('logging-processor'), authn: cpu('authn-processor') };
    const downPerS = (cpu1.logging - cpu0.logging) / 60;
    // Read before Kafka starts again: a loaded machine can take 30 s to start the broker, and
    // the processor drains its buffer as soon as it is back.
    const metricsDown = await (
      await fetch(`http://127.0.0.1:${stack.ports.loggingMetrics}/metrics`)
    ).text();
    const restart0 = Date.now();
    await stack.startKafka();
    const restartMs = Date.now() - restart0;
    console.log(
      `Kafka down from +${stoppedAt} ms to +${Date.now() - t0} ms (its restart took ${restartMs} ms); CPU s during the 60 s outage: ` +
        `logging-processor ${(cpu1.logging - cpu0.logging).toFixed(2)}, ` +
        `authn-processor ${(cpu1.authn - cpu0.authn).toFixed(2)}; logging-processor CPU s/s ` +
        `Kafka up ${upPerS.toFixed(3)}, down ${downPerS.toFixed(3)}; generator stalls: ${stalls}; ` +
        `${/^logging_records_buffered (\d+)/m.exec(metricsDown)?.[1] ?? '?'} records buffered`,
    );
    // Kafka down costs the processor about what Kafka up does (a retry storm or a busy loop
    // would be a whole core: ~1 s/s).
    expect(downPerS).toBeLessThan(3 * upPerS + 0.05);
    // While Kafka was down nothing was published and the records waited in the buffer.
    expect(Number(/^logging_records_buffered (\d+)/m.exec(metricsDown)?.[1])).toBeGreaterThan(
      1_000,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    running = false;
    await load;
    await Promise.all([...inflight]);
    if (failures.length > 0) snapshots.push(snapshot('end'));
    expect(
      failures.slice(0, 5),
      `${failures.length} failed; last at ${failures.at(-1)}\n${(await Promise.all(snapshots)).join('\n')}`,
    ).toEqual([]);
    expect(ids.length).toBeGreaterThan(7_000);
    const stored = await waitFor(
      'every record stored after the outage',
      async () => ((await storedCount(ids)) === ids.length ? true : undefined),
      90_000,
    ).catch(async (err: unknown) => `${String(err)}\n${await pipelineSnapshot(ids)}`);
    expect(stored).toBe(true);
    const metrics = await (
      await fetch(`http://127.0.0.1:${stack.ports.loggingMetrics}/metrics`)
    ).text();
    expect(metrics).not.toMatch(/^logging_records_dropped_total\{[^}]*\} [1-9]/m);
  }, 300_000);
});
