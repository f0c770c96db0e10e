import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadToolPaths } from '../src';
import { canConnect } from '../src/net';

describe('lifecycle', () => {
  it('says how to fix a missing setup', () => {
    const fakeRepo = mkdtempSync(join(tmpdir(), 'testkit-'));
    try {
      expect(() => loadToolPaths(fakeRepo)).toThrow(
        /infra\.env not found: run scripts\/infra\/setup\.sh/,
      );
    } finally {
      rmSync(fakeRepo, { recursive: true, force: true });
    }
  });

  it('kills the parts of a test process that dies without stopping them', async () => {
    // A child node process starts Redis, prints the port, then is SIGKILLed (no exit handlers run).
    const script = `
      const { localBackend } = require(${JSON.stringify(join(__dirname, '..', 'dist'))});
      localBackend().redis().then((r) => console.log(r.info.port));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', () => reject(new Error('child exited early')));
    });
    expect(await canConnect(port)).toBe(true);
    child.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while ((await canConnect(port)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await canConnect(port)).toBe(false);
  });
});
