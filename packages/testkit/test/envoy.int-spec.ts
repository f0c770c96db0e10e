import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { freePort, infraBackend } from '../src';

/** A listener that answers every request itself: no upstream needed. */
function directResponseConfig(port: number, body: string): string {
  return `
static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: main
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ['*']
                      routes:
                        - match: { prefix: / }
                          direct_response: { status: 200, body: { inline_string: ${body} } }
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
`;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('envoy (real)', () => {
  it('runs two instances side by side, each ready with its listener up', async () => {
    const backend = infraBackend();
    const [pa, pb] = [await freePort(), await freePort()];
    const [a, b] = await Promise.all([
      backend.envoy({ configYaml: directResponseConfig(pa, 'from-a'), readyPorts: [pa] }),
      backend.envoy({ configYaml: directResponseConfig(pb, 'from-b'), readyPorts: [pb] }),
    ]);
    try {
      expect(await get(a.info.adminPort, '/ready')).toEqual({ status: 200, body: 'LIVE\n' });
      expect((await get(pa, '/')).body).toBe('from-a');
      expect((await get(pb, '/')).body).toBe('from-b');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    await expect(get(a.info.adminPort, '/ready')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('fails loudly with the log tail when the config is invalid', async () => {
    await expect(
      infraBackend().envoy({ configYaml: 'static_resources: { listeners: [ { name: 7 } ] }' }),
    ).rejects.toThrow(/envoy \(.*\): exited \(code 1, signal null\) before LIVE[\s\S]*envoy\.log/);
  });
});
