import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startNodeService } from '../src';

const SERVER = `
const http = require('node:http');
const port = Number(process.env.PORT);
http.createServer((req, res) => res.end(JSON.stringify({ env: process.env.GREETING }))).listen(port, '127.0.0.1');
console.log('listening', port);
`;

describe('startNodeService', () => {
  it('runs a built service as a child process, waits for readiness, stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-node-svc-'));
    const entry = join(dir, 'main.js');
    writeFileSync(entry, SERVER);
    const port = await freePort();
    const svc = await startNodeService({
      name: 'hello',
      entry,
      env: { PORT: String(port), GREETING: 'hi' },
      readyUrl: `http://127.0.0.1:${port}/`,
    });
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.json()).toEqual({ env: 'hi' });
    expect(readFileSync(svc.info.logFile, 'utf8')).toContain(`listening ${port}`);
    await svc.stop();
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('fails loudly with the log tail when the service dies before it is ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-node-svc-'));
    const entry = join(dir, 'main.js');
    writeFileSync(entry, "console.error('boom: bad config'); process.exit(3);");
    await expect(
      startNodeService({ name: 'dies', entry, env: {}, readyPorts: [await freePort()] }),
    ).rejects.toThrow(/exited \(code 3.*[\s\S]*boom: bad config/);
  });
});
