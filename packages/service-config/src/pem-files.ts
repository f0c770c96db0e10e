import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from './load-config';

/** What a PEM file named by a variable must hold. */
export type PemFileKind =
  /** A certificate (chain, leaf first). */
  | { kind: 'certificate' }
  /** A CA certificate (bundle; the first must be a CA). */
  | { kind: 'ca' }
  /** An unencrypted private key, optionally the key of the certificate in another variable. */
  | { kind: 'private-key'; of?: string };

/** Larger files are refused (a PEM bundle is a few KiB; a wrong path could be a device). */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

function readBounded(path: string): Buffer {
  // stat before open: opening a FIFO would block, reading a device would never end.
  const st = statSync(path);
  if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a regular file' });
  if (st.size > MAX_PEM_FILE_BYTES) {
    throw Object.assign(new Error('too large'), {
      code: `larger than ${MAX_PEM_FILE_BYTES} bytes`,
    });
  }
  return readFileSync(path);
}

/**
 * Reads the PEM files a validated config names, once at boot, and checks what they hold
 * (certificate, CA, private key matching its certificate). Every problem is reported together
 * as one ConfigError naming the variable and the path, never the contents.
 */
export function readPemFiles<K extends string>(
  service: string,
  files: Record<K, { path: string } & PemFileKind>,
): Record<K, Buffer> {
  const problems: string[] = [];
  const out = {} as Record<K, Buffer>;
  const certs = new Map<string, X509Certificate>();
  const names = Object.keys(files) as K[];
  for (const name of names) {
    const spec = files[name];
    let pem: Buffer;
    try {
      pem = readBounded(spec.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      problems.push(`${name}: cannot read ${spec.path} (${code})`);
      continue;
    }
    out[name] = pem;
    if (spec.kind === 'private-key') continue;
    try {
      const cert = new X509Certificate(pem);
      certs.set(name, cert);
      if (spec.kind === 'ca' && !cert.ca) problems.push(`${name}: not a CA certificate`);
    } catch {
      problems.push(`${name}: not a PEM certificate`);
    }
  }
  for (const name of names) {
    const spec = files[name];
    const pem = out[name];
    if (spec.kind !== 'private-key' || pem === undefined) continue;
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      problems.push(`${name}: not a PEM private key (or it is encrypted)`);
      continue;
    }
    const cert = spec.of !== undefined ? certs.get(spec.of) : undefined;
    if (cert !== undefined && !cert.checkPrivateKey(key)) {
      problems.push(`${name}: does not match the certificate in ${spec.of}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
  return out;
}
