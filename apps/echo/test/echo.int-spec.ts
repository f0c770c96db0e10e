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
});
