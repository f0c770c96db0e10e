import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEchoApp } from '../src/app';
import { loadEchoConfig } from '../src/config/echo.config';
import { type EchoedRequest } from '../src/echo/echo.service';

describe('echo over real HTTP', () => {
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    app = await createEchoApp(loadEchoConfig({ PORT: '0', BODY_LIMIT_BYTES: '1024' }));
    await app.listen(0, '127.0.0.1');
    const addr = app.getHttpServer().address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await app.close();
  });

  it('echoes any method and path', async () => {
    for (const method of ['GET', 'DELETE', 'PATCH']) {
      const res = await fetch(`${base}/any/where?q=1`, { method, headers: { 'x-t': 'v' } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as EchoedRequest;
      expect(body).toMatchObject({
        command: method,
        path: '/any/where?q=1',
        message: 'Hello',
        body: '',
      });
      expect(body.headers['x-t']).toBe('v');
    }
  });

  it('echoes broken JSON bodies as text instead of rejecting them', async () => {
    const res = await fetch(`${base}/p`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"broken":',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as EchoedRequest).body).toBe('{"broken":');
  });

  it('answers an oversized body with a JSON 413', async () => {
    const res = await fetch(`${base}/p`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(((await res.json()) as { statusCode: number }).statusCode).toBe(413);
  });

  it('counts the requests it answered per path (the counter itself is not counted)', async () => {
    const path = `/counted/${Date.now()}?q=1`;
    const count = async (): Promise<number> => {
      const res = await fetch(`${base}/_echo/requests?path=${encodeURIComponent(path)}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { count: number }).count;
    };
    expect(await count()).toBe(0);
    await (await fetch(`${base}${path}`, { method: 'POST', body: 'a' })).text();
    await (await fetch(`${base}${path}`)).text();
    expect(await count()).toBe(2);
    expect(await count()).toBe(2);
    const bad = await fetch(`${base}/_echo/requests`);
    expect(bad.status).toBe(400);
  });
});
