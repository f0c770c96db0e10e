import { ConfigError } from '@edge/service-config';
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AUTH_TLS_FILE_VARIABLES,
  type AuthnProcessorConfig,
} from '../config/authn-processor.config';

/** TLS material for the connections to the auth service, read once at boot. */
export interface AuthTls {
  /** PEM CA bundle trusted for the auth service's certificate. */
  readonly ca: Buffer;
  /** PEM client certificate chain for gRPC mTLS. */
  readonly cert: Buffer;
  /** PEM private key of `cert`. */
  readonly key: Buffer;
}

/** Injection token: `AuthTls | undefined` (undefined: plaintext). */
export const AUTH_TLS = Symbol('AUTH_TLS');

type TlsFiles = Pick<AuthnProcessorConfig, (typeof AUTH_TLS_FILE_VARIABLES)[number]>;

/**
 * Reads and checks the AUTH_TLS_* files (undefined when none is configured; the schema
 * guarantees all three or none). Every problem is reported at once as a ConfigError naming the
 * variable; contents are never echoed.
 */
export function readAuthTls(config: TlsFiles): AuthTls | undefined {
  if (AUTH_TLS_FILE_VARIABLES.some((k) => config[k] === undefined)) return undefined;
  const problems: string[] = [];
  const read = (name: keyof TlsFiles): Buffer | undefined => {
    try {
      return readFileSync(config[name] as string);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      problems.push(`${name}: cannot read ${config[name]} (${code})`);
      return undefined;
    }
  };
  const ca = read('AUTH_TLS_CA_FILE');
  const cert = read('AUTH_TLS_CERT_FILE');
  const key = read('AUTH_TLS_KEY_FILE');
  const certificate = (name: keyof TlsFiles, pem: Buffer | undefined) => {
    if (pem === undefined) return undefined;
    try {
      return new X509Certificate(pem);
    } catch {
      problems.push(`${name}: not a PEM certificate`);
      return undefined;
    }
  };
  const caCert = certificate('AUTH_TLS_CA_FILE', ca);
  if (caCert !== undefined && !caCert.ca) problems.push('AUTH_TLS_CA_FILE: not a CA certificate');
  const leaf = certificate('AUTH_TLS_CERT_FILE', cert);
  if (key !== undefined) {
    let privateKey: KeyObject | undefined;
    try {
      privateKey = createPrivateKey(key);
    } catch {
      problems.push('AUTH_TLS_KEY_FILE: not a PEM private key (or it is encrypted)');
    }
    if (privateKey !== undefined && leaf !== undefined && !leaf.checkPrivateKey(privateKey)) {
      problems.push('AUTH_TLS_KEY_FILE: does not match the certificate in AUTH_TLS_CERT_FILE');
    }
  }
  if (problems.length > 0 || ca === undefined || cert === undefined || key === undefined) {
    throw new ConfigError('authn-processor', problems);
  }
  return { ca, cert, key };
}
