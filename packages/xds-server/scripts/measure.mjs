// Measurements of the library (not a test; the app's bench lives in bench/): run after `pnpm build`
//   node scripts/measure.mjs envoy        push→ACK and change→serving with a real Envoy, 100 route changes (SotW, delta)
//   node scripts/measure.mjs streams N    server cost with N simulated Envoy streams (clients in a child process)
import { fork } from 'node:child_process';
import { request } from 'node:http';
import { ServerCredentials } from '@grpc/grpc-js';
import { freePort, infraBackend } from '@edge/testkit';
import { SnapshotCache, TypeUrl, XdsServer, silentLogger } from '../dist/index.js';
import { AdsTestClient } from '../dist/testing/index.js';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs) =>
  `p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`;

function topology(listenerPort, upstreams, routeTo, tag = '') {
  const ads = { ads: {}, resource_api_version: 'V3' };
  return {
    resources: {
      [TypeUrl.Cluster]: Object.keys(upstreams).map((name) => ({
        name,
        value: { type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: ads } },
      })),
      [TypeUrl.Endpoint]: Object.entries(upstreams).map(([name, port]) => ({
        name,
        value: {
          endpoints: [
            {
              lb_endpoints: [
                {
                  endpoint: {
                    address: { socket_address: { address: '127.0.0.1', port_value: port } },
                  },
                },
              ],
            },
          ],
        },
      })),
      [TypeUrl.Listener]: [
        {
          name: 'http',
          value: {
            address: { socket_address: { address: '127.0.0.1', port_value: listenerPort } },
            filter_chains: [
              {
                filters: [
                  {
                    name: 'hcm',
                    typed_config: {
                      '@type':
                        'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                      stat_prefix: 'in',
                      rds: { route_config_name: 'r', config_source: ads },
                      http_filters: [
                        {
                          name: 'router',
                          typed_config: {
                            '@type':
                              'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                          },
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
      [TypeUrl.Route]: [
        {
          name: 'r',
          value: {
            virtual_hosts: [
              {
                name: 'all',
                domains: ['*'],
                routes: [
                  {
                    match: { prefix: '/' },
                    route: { cluster: routeTo },
                    request_headers_to_add: tag ? [{ header: { key: 'x-tag', value: tag } }] : [],
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  };
}

function get(port) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end();
  });
}

async function measureEnvoy() {
  const { createServer } = await import('node:http');
  const ups = {};
  for (const tag of ['a', 'b']) {
    const s = createServer((req, res) => res.end(tag));
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    ups[tag] = s.address().port;
  }
  for (const delta of [false, true]) {
    const cache = new SnapshotCache();
    const server = new XdsServer({ cache, logger: silentLogger });
    const xdsPort = await server.bind('127.0.0.1', 0, ServerCredentials.createInsecure());
    const listenerPort = await freePort();
    cache.setSnapshot('m', topology(listenerPort, ups, 'a'));
    const bootstrap = {
      node: { id: 'm', cluster: 'm' },
      dynamic_resources: {
        ads_config: {
          api_type: delta ? 'DELTA_GRPC' : 'GRPC',
          transport_api_version: 'V3',
          grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }],
        },
        cds_config: { ads: {}, resource_api_version: 'V3' },
        lds_config: { ads: {}, resource_api_version: 'V3' },
      },
      static_resources: {
        clusters: [
          {
            name: 'xds',
            type: 'STATIC',
            connect_timeout: '1s',
            typed_extension_protocol_options: {
              'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                '@type':
                  'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                explicit_http_config: { http2_protocol_options: {} },
              },
            },
            load_assignment: {
              cluster_name: 'xds',
              endpoints: [
                {
                  lb_endpoints: [
                    {
                      endpoint: {
                        address: { socket_address: { address: '127.0.0.1', port_value: xdsPort } },
                      },
                    },
                  ],
                },
              ],
            },
          },
        ],
      },
    };
    const envoy = await infraBackend().envoy({
      name: 'xds-measure',
      configYaml: JSON.stringify(bootstrap),
      readyPorts: [listenerPort],
      startTimeoutMs: 60_000,
    });
    const ack = [];
    const serve = [];
    for (let i = 0; i < 100; i++) {
      const to = i % 2 === 0 ? 'b' : 'a';
      const acked = new Promise((resolve) => {
        const on = (e) => {
          if (e.typeUrl === TypeUrl.Route) {
            server.off('ack', on);
            resolve(performance.now());
          }
        };
        server.on('ack', on);
      });
      const t0 = performance.now();
      cache.setSnapshot('m', topology(listenerPort, ups, to));
      while ((await get(listenerPort)) !== to);
      serve.push(performance.now() - t0);
      ack.push((await acked) - t0);
    }
    console.log(
      `${delta ? 'delta' : 'sotw '}: 100 route changes, setSnapshot → RDS ACK: ${fmt(ack)}; setSnapshot → Envoy serving it: ${fmt(serve)}`,
    );
    await envoy.stop();
    await server.stop(1000);
  }
  process.exit(0);
}

async function measureStreams(n) {
  const cache = new SnapshotCache();
  const server = new XdsServer({ cache, logger: silentLogger });
  const port = await server.bind('127.0.0.1', 0, ServerCredentials.createInsecure());
  const ups = { a: 1001, b: 1002 };
  let t = performance.now();
  let cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) cache.setSnapshot(`node-${i}`, topology(10000, ups, 'a'));
  const setMs = performance.now() - t;
  global.gc?.();
  const mem0 = process.memoryUsage();
  const child = fork(new URL(import.meta.url).pathname, ['clients', String(n), String(port)]);
  const fromChild = (type) =>
    new Promise((resolve) => child.on('message', (m) => m.type === type && resolve(m)));
  const acks = [];
  server.on('ack', (e) => acks.push(e.latencyMs));
  t = performance.now();
  cpu = process.cpuUsage();
  child.send({ type: 'start' });
  await fromChild('synced');
  const connectMs = performance.now() - t;
  const connectCpu = process.cpuUsage(cpu);
  await new Promise((r) => setTimeout(r, 500));
  global.gc?.();
  const mem1 = process.memoryUsage();
  // one route change on every node
  acks.length = 0;
  t = performance.now();
  cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) cache.setSnapshot(`node-${i}`, topology(10000, ups, 'b'));
  const setAllMs = performance.now() - t;
  child.send({ type: 'wait-route' });
  await fromChild('routed');
  const pushMs = performance.now() - t;
  const pushCpu = process.cpuUsage(cpu);
  console.log(
    `${n} streams (half SotW, half delta, one node each): ` +
      `setSnapshot ×${n} ${setMs.toFixed(0)} ms (${((setMs / n) * 1000).toFixed(0)} µs each); ` +
      `connect+initial sync of all ${connectMs.toFixed(0)} ms, server CPU ${((connectCpu.user + connectCpu.system) / 1000).toFixed(0)} ms; ` +
      `server memory per stream: heap ${((mem1.heapUsed - mem0.heapUsed) / n / 1024).toFixed(1)} KiB, rss ${((mem1.rss - mem0.rss) / n / 1024).toFixed(1)} KiB; ` +
      `route change on all nodes: setSnapshot ×${n} ${setAllMs.toFixed(0)} ms, all streams have it after ${pushMs.toFixed(0)} ms, server CPU ${((pushCpu.user + pushCpu.system) / 1000).toFixed(0)} ms; ` +
      `push→ACK ${fmt(acks)}`,
  );
  child.kill();
  await server.stop(1000);
  process.exit(0);
}

async function clients(n, port) {
  const cs = [];
  process.on('message', async (m) => {
    if (m.type === 'start') {
      for (let i = 0; i < n; i++) {
        const delta = i % 2 === 1;
        cs.push(
          new AdsTestClient({
            address: `127.0.0.1:${port}`,
            nodeId: `node-${i}`,
            delta,
            channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
          }).start([
            { typeUrl: TypeUrl.Cluster, names: delta ? ['*'] : [] },
            { typeUrl: TypeUrl.Endpoint, names: ['a', 'b'] },
            { typeUrl: TypeUrl.Listener, names: delta ? ['*'] : [] },
            { typeUrl: TypeUrl.Route, names: ['r'] },
          ]),
        );
      }
      while (!cs.every((c) => new Set(c.responses.map((r) => r.typeUrl)).size === 4))
        await new Promise((r) => setTimeout(r, 10));
      process.send({ type: 'synced' });
    } else if (m.type === 'wait-route') {
      const before = cs.map((c) => c.responses.filter((r) => r.typeUrl === TypeUrl.Route).length);
      while (
        !cs.every(
          (c, i) => c.responses.filter((r) => r.typeUrl === TypeUrl.Route).length > before[i],
        )
      )
        await new Promise((r) => setImmediate(r));
      process.send({ type: 'routed' });
    }
  });
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'envoy') await measureEnvoy();
else if (mode === 'streams') await measureStreams(Number(a ?? 100));
else if (mode === 'clients') await clients(Number(a), Number(b));
else console.error('usage: measure.mjs envoy | streams N');
