// The control plane with real Envoys over mTLS: routes served within 1 s of the admin call, a
// NACKed update that leaves the Envoy on its last good version, a restart under load, a Wasm
// rollout under load without failures or drained connections, an Envoy without a client
// certificate refused, an Envoy with another node's certificate refused, two nodes with different
// snapshots, hostile admin input.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { headerFilterWasmPath } from '@edge/header-filter-wasm';
import { type EnvoyInfo, type Started } from '@edge/testkit';
import { pkiLayout, rotatePki } from '@edge/xds-pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  envoyStats,
  jsonServer,
  type Stack,
  startStack,
  testNodes,
  until,
  wrk,
} from './support';

const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const ECDS = 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig';

let stack: Stack;
let app: Awaited<ReturnType<typeof jsonServer>>;
let provider: Awaited<ReturnType<typeof jsonServer>>;
let widgets: Awaited<ReturnType<typeof jsonServer>>;
let sidecarEnvoy: Started<EnvoyInfo>;
let sidecarUrl: string;
let frontUrl: string;

/** The built filter with a custom section appended: another version (new sha256), same code. */
function variant(label: string): Buffer {
  const base = readFileSync(headerFilterWasmPath());
  const name = Buffer.from(`edge.version.${label}`);
  const payload = Buffer.concat([Buffer.from([name.length]), name]);
  return Buffer.concat([base, Buffer.from([0, payload.length]), payload]);
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function nodeStatus(id: string): Promise<any> {
  const r = await admin(stack, 'GET', `/nodes/${id}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Connected, nothing pending, every type it subscribed to ACKed at the snapshot's version. */
async function inSync(id: string): Promise<boolean> {
  const s = (await nodeStatus(id)).status;
  if (!s?.snapshotVersions || s.streams.sotw + s.streams.delta === 0) return false;
  if (s.pending.length > 0 || s.acked[LDS] === undefined) return false;
  return Object.entries(s.acked as Record<string, string>).every(
    ([t, v]) => s.snapshotVersions[t] === v,
  );
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

beforeAll(async () => {
  app = await jsonServer((req) => ({ app: 'a', headers: req.headers }));
  provider = await jsonServer(() => ({ 'x-provided': 'from-provider' }));
  widgets = await jsonServer((req) => ({ app: 'widgets', url: req.url }));
  const n = await testNodes({ app: app.port, provider: provider.port });
  stack = await startStack([n.sidecar, n.front]);
  sidecarEnvoy = await stack.startEnvoy(n.sidecar);
  // The front proxy speaks state-of-the-world ADS, the sidecar incremental (delta).
  await stack.startEnvoy(n.front, { apiType: 'GRPC' });
  sidecarUrl = `http://127.0.0.1:${n.sidecarPort}`;
  frontUrl = `http://127.0.0.1:${n.frontPort}`;
  await until(
    'both nodes in sync',
    async () => (await inSync('sidecar-a')) && inSync('front-proxy'),
  );
});

afterAll(async () => {
  await stack?.stop();
  await Promise.allSettled([app?.stop(), provider?.stop(), widgets?.stop()]);
});

describe('two nodes (one SotW, one delta), two snapshots', () => {
  it('serves each node its own listeners, routes and filters', async () => {
    const side = await nodeStatus('sidecar-a');
    const front = await nodeStatus('front-proxy');
    expect(side.status.streams).toEqual({ sotw: 0, delta: 1 });
    expect(front.status.streams).toEqual({ sotw: 1, delta: 0 });
    expect(side.resources[LDS]).toEqual(['sidecar_inbound']);
    expect(front.resources[LDS]).toEqual(['front']);
    expect(side.resources[ECDS]).toEqual(['envoy.filters.http.wasm.header_filter']);
    expect(front.resources[ECDS]).toEqual([]);
    expect(front.resources['type.googleapis.com/envoy.config.cluster.v3.Cluster']).toContain(
      'authn_processor',
    );
    // The sidecar's Wasm filter (delivered over ECDS) adds the provider's header.
    await until('header from the Wasm filter', async () => {
      const r = await getJson(`${sidecarUrl}/hello`);
      return r.status === 200 && r.body.headers['x-provided'] === 'from-provider';
    });
    // The front proxy's route table came over RDS: its JSON 404 for unrouted paths.
    const nope = await getJson(`${frontUrl}/nope`);
    expect(nope.status).toBe(404);
    expect(nope.body.details).toMatch(/^NoRoute/);
  });
});

describe('a route added through the admin API', () => {
  it('is served within 1 s', async () => {
    expect((await getJson(`${sidecarUrl}/widgets/1`)).body.app).toBe('a');
    const up = await admin(stack, 'POST', '/nodes/sidecar-a/upstreams', {
      name: 'widgets',
      endpoints: [{ address: '127.0.0.1', port: widgets.port }],
    });
    expect(up.status).toBe(201);
    const t0 = Date.now();
    const r = await admin(stack, 'POST', '/nodes/sidecar-a/routes', {
      name: 'widgets',
      pathPrefix: '/widgets',
      upstream: 'widgets',
    });
    expect(r.status).toBe(201);
    await until(
      'the new route',
      async () => (await getJson(`${sidecarUrl}/widgets/1`)).body.app === 'widgets',
      5_000,
      5,
    );
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(1_000);
    // Other paths still go to the app.
    expect((await getJson(`${sidecarUrl}/other`)).body.app).toBe('a');
  });

  it('is refused with the bad field named when it would break the node', async () => {
    const r = await admin(stack, 'POST', '/nodes/front-proxy/routes', {
      name: 'sneaky',
      pathPrefix: '/api/v0/admin/sneaky',
      upstream: 'echo',
    });
    expect(r.status).toBe(400);
    expect(r.body.fields[0].field).toBe('requiredScopes');
    const del = await admin(stack, 'DELETE', '/nodes/sidecar-a/upstreams/widgets');
    expect(del.status).toBe(409);
    expect(del.body.details).toMatch(/InvalidField name: still used by route\(s\) widgets/);
  });
});

describe('hostile admin input', () => {
  it('refuses a missing or wrong token, a huge body, broken JSON and bad fields with JSON', async () => {
    expect((await admin(stack, 'GET', '/nodes', undefined, { token: null })).status).toBe(401);
    const wrong = await admin(stack, 'GET', '/nodes', undefined, { token: 'x'.repeat(40) });
    expect(wrong.status).toBe(401);
    expect(wrong.body.details).toMatch(/^InvalidToken/);
    const huge = await admin(stack, 'POST', '/nodes/sidecar-a/routes', undefined, {
      raw: JSON.stringify({ name: 'x', pathPrefix: `/${'a'.repeat(200_000)}`, upstream: 'app' }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.details).toMatch(/^PayloadTooLarge/);
    const broken = await admin(stack, 'POST', '/nodes/sidecar-a/routes', undefined, {
      raw: '{"name": "x",',
    });
    expect(broken.status).toBe(400);
    expect(broken.body.details).toMatch(/^MalformedBody/);
    const bad = await admin(stack, 'POST', '/nodes/sidecar-a/upstreams', {
      name: 'x1',
      endpoints: [{ address: 'example.com', port: 99999 }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      'endpoints.0.address',
      'endpoints.0.port',
    ]);
    const extra = await admin(stack, 'POST', '/nodes/sidecar-a/routes', {
      name: 'x2',
      pathPrefix: '/x2',
      upstream: 'app',
      cluster: 'evil',
    });
    expect(extra.status).toBe(400);
    expect(extra.body.fields[0].field).toBe('cluster');
    const unknown = await admin(stack, 'GET', '/nodes/nobody/routes');
    expect(unknown.status).toBe(404);
    const odd = await admin(stack, 'GET', '/nodes/..%2f..%2fetc/routes');
    expect(odd.status).toBe(404);
    const wasmSha = await admin(
      stack,
      'POST',
      `/wasm/modules?version=bad&sha256=${'0'.repeat(64)}`,
      undefined,
      {
        raw: variant('bad'),
        contentType: 'application/wasm',
      },
    );
    expect(wasmSha.status).toBe(400);
    expect(wasmSha.body.fields[0].field).toBe('sha256');
    // Nothing reached an Envoy: both nodes are still in sync on their old versions.
    expect(await inSync('sidecar-a')).toBe(true);
  });
});

describe('Wasm over ECDS', () => {
  it('a NACKed module leaves the sidecar on its last good version, and the API shows the error', async () => {
    // A valid WebAssembly module that is no proxy-wasm filter: it passes the upload checks
    // (checksum, WebAssembly.validate) but Envoy cannot start it.
    const empty = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    const up = await admin(
      stack,
      'POST',
      `/wasm/modules?version=empty&sha256=${sha(empty)}`,
      undefined,
      {
        raw: empty,
        contentType: 'application/wasm',
      },
    );
    expect(up.status).toBe(201);
    const before = (await nodeStatus('sidecar-a')).status.acked[ECDS];
    expect(
      (await admin(stack, 'POST', '/wasm/rollouts', { version: 'empty', nodes: ['sidecar-a'] }))
        .status,
    ).toBe(201);
    const nack = await until('the NACK', async () => {
      const s = (await nodeStatus('sidecar-a')).status;
      return s.lastNack?.typeUrl === ECDS ? s.lastNack : undefined;
    });
    expect(nack.message).toMatch(/wasm|Wasm/);
    const s = (await nodeStatus('sidecar-a')).status;
    expect(s.acked[ECDS]).toBe(before);
    // Still serving through the old filter.
    const r = await getJson(`${sidecarUrl}/after-nack`);
    expect(r.status).toBe(200);
    expect(r.body.headers['x-provided']).toBe('from-provider');
    // Rolling back publishes the previous module again: in sync.
    const back = await admin(stack, 'POST', '/wasm/rollbacks', { nodes: ['sidecar-a'] });
    expect(back.status).toBe(201);
    expect(back.body[0].version).toBe('builtin');
    await until('sidecar back in sync', () => inSync('sidecar-a'));
  });

  it('a new module rolled under load: no failed request, no drained connection', async () => {
    const v2 = variant('v2');
    const up = await admin(stack, 'POST', `/wasm/modules?version=v2&sha256=${sha(v2)}`, undefined, {
      raw: v2,
      contentType: 'application/wasm',
    });
    expect(up.status).toBe(201);
    const listenerStats = () =>
      envoyStats(
        sidecarEnvoy.info.adminPort,
        '^listener_manager\\.(listener_(added|modified|removed|create_success)|total_filter_chains_draining)$',
      );
    const cx = () => envoyStats(sidecarEnvoy.info.adminPort, '^http\\.sidecar\\.downstream_cx_');
    const statsBefore = await listenerStats();
    const closedByEnvoy = (m: Map<string, number>) => ({
      local: m.get('http.sidecar.downstream_cx_destroy_local') ?? -1,
      localActive: m.get('http.sidecar.downstream_cx_destroy_local_active_rq') ?? -1,
      drain: m.get('http.sidecar.downstream_cx_drain_close') ?? -1,
    });
    const cxBefore = closedByEnvoy(await cx());
    const ecdsBefore = (await nodeStatus('sidecar-a')).status.acked[ECDS];
    const load = wrk(`${sidecarUrl}/load`, 6, 8);
    await new Promise((r) => setTimeout(r, 1_500));
    const roll = await admin(stack, 'POST', '/wasm/rollouts', {
      version: 'v2',
      nodes: ['sidecar-a'],
    });
    expect(roll.status).toBe(201);
    expect(roll.body[0]).toMatchObject({ version: 'v2', previous: ['builtin'] });
    await until('v2 ACKed', () => inSync('sidecar-a'), 10_000);
    expect((await nodeStatus('sidecar-a')).status.acked[ECDS]).not.toBe(ecdsBefore);
    const result = await load;
    expect(result.requests).toBeGreaterThan(100);
    expect(result.non2xx).toBe(0);
    expect(result.socketErrors).toBe(0);
    expect(await listenerStats()).toEqual(statsBefore);
    // Envoy closed no downstream connection (none drained, none closed locally).
    expect(closedByEnvoy(await cx())).toEqual(cxBefore);
    const after = await getJson(`${sidecarUrl}/after-v2`);
    expect(after.body.headers['x-provided']).toBe('from-provider');
    expect((await admin(stack, 'GET', '/nodes/sidecar-a/wasm')).body).toMatchObject({
      version: 'v2',
      sha256: sha(v2),
    });
  });
});

describe('control plane restart under load', () => {
  it('Envoys keep serving, reconnect and resync', async () => {
    const load = wrk(`${sidecarUrl}/during-restart`, 8, 8);
    await new Promise((r) => setTimeout(r, 1_000));
    await stack.stopControlPlane();
    await new Promise((r) => setTimeout(r, 1_500));
    await stack.startControlPlane();
    await until(
      'both nodes resynced',
      async () => (await inSync('sidecar-a')) && inSync('front-proxy'),
      30_000,
    );
    const result = await load;
    expect(result.non2xx).toBe(0);
    expect(result.socketErrors).toBe(0);
    // The state in Postgres came back with it: the route and the v2 module.
    expect((await getJson(`${sidecarUrl}/widgets/2`)).body.app).toBe('widgets');
    expect((await admin(stack, 'GET', '/nodes/sidecar-a/wasm')).body.version).toBe('v2');
    // And a change after the restart is served.
    await admin(stack, 'PUT', '/nodes/sidecar-a/routes/widgets', {
      pathPrefix: '/gadgets',
      upstream: 'widgets',
    });
    await until(
      'the moved route',
      async () => (await getJson(`${sidecarUrl}/gadgets`)).body.app === 'widgets',
    );
    expect((await getJson(`${sidecarUrl}/widgets/3`)).body.app).toBe('a');
  });
});

describe('mTLS', () => {
  it('an Envoy without a client certificate gets nothing', async () => {
    const n = stack.nodes.find((x) => x.id === 'sidecar-a')!;
    // Same node, its own listener port changed so it could bind if it were configured.
    const port = await (await import('@edge/testkit')).freePort();
    const intruder = await stack.startEnvoy(
      { ...n, vars: { ...n.vars, SIDECAR_PORT: port } } as typeof n,
      { clientCert: false, readyPorts: [] },
    );
    // Envoy gives up waiting for its first config after the initial fetch timeout (15 s) and is
    // LIVE with nothing: no listener, the control plane never saw it.
    const listeners = await (
      await fetch(`http://127.0.0.1:${intruder.info.adminPort}/listeners?format=json`)
    ).json();
    expect(listeners).toEqual({});
    const ssl = await envoyStats(
      intruder.info.adminPort,
      '^cluster\\.xds_control_plane\\.ssl\\.connection_error$',
    );
    expect(ssl.get('cluster.xds_control_plane.ssl.connection_error') ?? 0).toBeGreaterThan(0);
    const streams = (await nodeStatus('sidecar-a')).status.streams;
    expect(streams.sotw + streams.delta).toBe(1);
    await intruder.stop();
  });

  it("an Envoy with sidecar-a's valid certificate claiming front-proxy gets nothing", async () => {
    const front = stack.nodes.find((x) => x.id === 'front-proxy')!;
    const port = await (await import('@edge/testkit')).freePort();
    const metric = async () => {
      const text = (await admin(stack, 'GET', '/metrics')).body as string;
      const m = /^xds_refused_streams_total\{reason="unauthorized"\} (\d+)$/m.exec(text);
      return m ? Number(m[1]) : -1;
    };
    expect(await metric()).toBe(0);
    // The front proxy's bootstrap (node.id front-proxy) on a free port, with sidecar-a's files.
    const impostor = await stack.startEnvoy(
      { ...front, vars: { ...front.vars, FRONT_PROXY_PORT: port } } as typeof front,
      { certOf: 'sidecar-a', readyPorts: [] },
    );
    // The control plane refused its streams (PERMISSION_DENIED), counted and shows them.
    await until('the refusal is counted', async () => (await metric()) >= 1);
    const refusal = (await nodeStatus('front-proxy')).lastRefusal;
    expect(refusal).toMatchObject({
      kind: 'delta',
      reason: 'unauthorized',
      message: `node "front-proxy" refused: the client certificate's CN is "sidecar-a"`,
    });
    const stats = async () =>
      envoyStats(
        impostor.info.adminPort,
        '^(listener_manager\\.total_listeners_active|listener_manager\\.lds\\.update_success|cluster_manager\\.cds\\.update_success|control_plane\\.connected_state)$',
      );
    // Envoy sees its stream end with PERMISSION_DENIED and retries; for several seconds and
    // several refusals it never gets a listener or a cluster.
    const firstCount = await metric();
    await until(
      'Envoy retried and was refused again',
      async () => (await metric()) > firstCount,
      60_000,
    );
    for (let i = 0; i < 3; i++) {
      const s = await stats();
      expect(s.get('listener_manager.total_listeners_active') ?? 0).toBe(0);
      expect(s.get('listener_manager.lds.update_success') ?? 0).toBe(0);
      expect(s.get('cluster_manager.cds.update_success') ?? 0).toBe(0);
      const listeners = await (
        await fetch(`http://127.0.0.1:${impostor.info.adminPort}/listeners?format=json`)
      ).json();
      expect(listeners).toEqual({});
      await new Promise((r) => setTimeout(r, 1000));
    }
    // The honest Envoys keep their one stream each and stay in sync; the front proxy serves.
    for (const id of ['front-proxy', 'sidecar-a']) {
      const st = (await nodeStatus(id)).status;
      expect(st.streams.sotw + st.streams.delta).toBe(1);
    }
    expect((await nodeStatus('sidecar-a')).lastRefusal).toBeNull();
    await until(
      'both nodes in sync',
      async () => (await inSync('sidecar-a')) && inSync('front-proxy'),
    );
    expect((await getJson(`${sidecarUrl}/widgets/3`)).status).toBe(200);
    await impostor.stop();
  });

  it('rotation: new certificates, same CA; the Envoy loads its own through SDS without a restart', async () => {
    const certFile = pkiLayout(stack.pkiDir).node('sidecar-a').cert;
    const serialOf = (file: string) =>
      execFileSync('openssl', ['x509', '-in', file, '-noout', '-serial'], { encoding: 'utf8' })
        .trim()
        .split('=')[1]!
        .toLowerCase()
        .slice(-24);
    const envoyCerts = async () =>
      JSON.stringify(
        await (await fetch(`http://127.0.0.1:${sidecarEnvoy.info.adminPort}/certs`)).json(),
      ).toLowerCase();
    const before = serialOf(certFile);
    expect(await envoyCerts()).toContain(before);
    rotatePki(stack.pkiDir);
    const after = serialOf(certFile);
    expect(after).not.toBe(before);
    await until('the sidecar loaded its new certificate', async () =>
      (await envoyCerts()).includes(after),
    );
    // The control plane reads its new server certificate at start; the Envoys reconnect with
    // their new client certificates and resync.
    await stack.stopControlPlane();
    await stack.startControlPlane();
    await until(
      'both nodes resynced after the rotation',
      async () => (await inSync('sidecar-a')) && inSync('front-proxy'),
      30_000,
    );
  });
});
