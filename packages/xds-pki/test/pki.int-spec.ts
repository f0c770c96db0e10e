import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CA_SECRET, CLIENT_CERT_SECRET, ensurePki, pkiLayout, rotatePki } from '../src/pki';

const text = (cert: string) =>
  execFileSync('openssl', ['x509', '-in', cert, '-noout', '-text'], { encoding: 'utf8' });

describe('ensurePki / rotatePki (real openssl)', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'xds-pki-')), 'pki');

  it('creates a CA, a server certificate and one client certificate per node, idempotently', () => {
    expect(ensurePki(dir, ['front-proxy', 'echo-sidecar'])).toEqual([
      'front-proxy',
      'echo-sidecar',
    ]);
    expect(ensurePki(dir, ['front-proxy', 'echo-sidecar'])).toEqual([]);
    const l = pkiLayout(dir);
    const verify = (cert: string) =>
      execFileSync('openssl', ['verify', '-CAfile', l.ca.cert, cert], { encoding: 'utf8' });
    expect(verify(l.server.cert)).toContain('OK');
    expect(text(l.server.cert)).toMatch(/DNS:control-plane/);
    expect(text(l.server.cert)).toMatch(/TLS Web Server Authentication/);
    const node = l.node('front-proxy');
    expect(verify(node.cert)).toContain('OK');
    expect(text(node.cert)).toMatch(/Subject: CN ?= ?front-proxy/);
    expect(text(node.cert)).toMatch(/TLS Web Client Authentication/);
    const sds = parse(readFileSync(node.sdsCert, 'utf8')) as { resources: { name: string }[] };
    expect(sds.resources[0]!.name).toBe(CLIENT_CERT_SECRET);
    const ca = parse(readFileSync(node.sdsCa, 'utf8')) as { resources: { name: string }[] };
    expect(ca.resources[0]!.name).toBe(CA_SECRET);
  });

  it('rotation swaps every leaf for a new one under the same CA', () => {
    const l = pkiLayout(dir);
    const before = readlinkSync(join(l.node('front-proxy').dir, 'current'));
    const serial = () =>
      execFileSync('openssl', ['x509', '-in', l.server.cert, '-noout', '-serial'], {
        encoding: 'utf8',
      });
    const serverBefore = serial();
    expect(rotatePki(dir).nodes.sort()).toEqual(['echo-sidecar', 'front-proxy']);
    expect(readlinkSync(join(l.node('front-proxy').dir, 'current'))).not.toBe(before);
    expect(serial()).not.toBe(serverBefore);
  });

  it('refuses a node id that is not a safe name', () => {
    expect(() => ensurePki(dir, ['../evil'])).toThrow(/invalid node id/);
  });
});
