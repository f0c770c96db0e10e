// The quickstart through Envoys configured by the control plane (as in the dev stack), and a route
// added through its admin API enforced end to end: the new path is served, its required scope
// reaches the authn processor as route metadata (edge.authn.route) and is enforced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import { basic, createRootKey, type EchoBody, type RootKey } from './support';

describe('the stack over xDS (front proxy and sidecar from the control plane)', () => {
  let stack: FrontProxyStack;
  let root: RootKey;
  let cp: { url: string; token: string };

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cp.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  };

  beforeAll(async () => {
    stack = await startFrontProxyStack({ xds: true, logging: false });
    cp = stack.controlPlane!;
    root = await createRootKey(stack.authUrl);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('serves the quickstart: 401 without credentials, 200 with the workload token added', async () => {
    const anon = await fetch(`${stack.proxyUrl}/api/v0/echo`);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { details: string }).details).toMatch(/^NoCredentials/);
    // The sidecar's Wasm filter, delivered over ECDS, adds the header provider's token once its
    // first out-of-band fetch is done.
    let body: EchoBody | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${stack.proxyUrl}/api/v0/echo`, {
        headers: { authorization: basic(root.key_id, root.secret) },
      });
      expect(res.status).toBe(200);
      body = (await res.json()) as EchoBody;
      if (body.headers['x-workload-token'] !== undefined) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body?.headers['x-tenant-id']).toBe(root.tenant);
    expect(body?.headers['x-workload-token']).toMatch(/^eyJ/);
  });

  it('a route added through the admin API is served with its required scope enforced', async () => {
    const added = await admin('POST', '/nodes/front-proxy/routes', {
      name: 'widgets',
      pathPrefix: '/api/v0/widgets',
      upstream: 'echo',
      requiredScopes: ['widgets:read'],
    });
    expect(added.status).toBe(201);
    const auth = { authorization: basic(root.key_id, root.secret) };
    // The root key (keys:read, keys:write) lacks widgets:read: 403 from the authn processor.
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fetch(`${stack.proxyUrl}/api/v0/widgets/1`, { headers: auth })).status;
      if (status === 403) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(403);
    // Other /api/v0 paths keep their policy.
    expect((await fetch(`${stack.proxyUrl}/api/v0/echo`, { headers: auth })).status).toBe(200);
    // Removing the route removes the requirement (the catch-all /api/v0/ serves it again).
    expect((await admin('DELETE', '/nodes/front-proxy/routes/widgets')).status).toBe(204);
    const back = Date.now() + 5_000;
    while (Date.now() < back) {
      status = (await fetch(`${stack.proxyUrl}/api/v0/widgets/1`, { headers: auth })).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(200);
  });
});
