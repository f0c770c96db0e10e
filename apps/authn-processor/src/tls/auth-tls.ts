import { readPemFiles } from '@edge/service-config';
import {
  type AUTH_TLS_FILE_VARIABLES,
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
 * guarantees all three or none): an unreadable file, a non-PEM file, a CA file that is not a CA
 * or a key that does not match the certificate is a ConfigError listing every problem by
 * variable; contents are never echoed.
 */
export function readAuthTls(config: TlsFiles): AuthTls | undefined {
  const { AUTH_TLS_CA_FILE, AUTH_TLS_CERT_FILE, AUTH_TLS_KEY_FILE } = config;
  if (AUTH_TLS_CA_FILE === undefined || AUTH_TLS_CERT_FILE === undefined) return undefined;
  if (AUTH_TLS_KEY_FILE === undefined) return undefined;
  const pem = readPemFiles('authn-processor', {
    AUTH_TLS_CA_FILE: { path: AUTH_TLS_CA_FILE, kind: 'ca' },
    AUTH_TLS_CERT_FILE: { path: AUTH_TLS_CERT_FILE, kind: 'certificate' },
    AUTH_TLS_KEY_FILE: { path: AUTH_TLS_KEY_FILE, kind: 'private-key', of: 'AUTH_TLS_CERT_FILE' },
  });
  return { ca: pem.AUTH_TLS_CA_FILE, cert: pem.AUTH_TLS_CERT_FILE, key: pem.AUTH_TLS_KEY_FILE };
}
