import { ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from '@edge/service-config';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AuthConfig } from '../config/config';
import { tlsEnabled } from '../config/tls.schema';

/** The TLS material of the auth service, read once at boot. */
export interface ServerTls {
  /** PEM certificate chain served on HTTPS and gRPC. */
  readonly cert: Buffer;
  /** PEM private key of `cert`. */
  readonly key: Buffer;
  /** PEM CA bundle that gRPC client certificates must chain to. */
  readonly clientCa: Buffer;
}

type TlsFiles = Pick<AuthConfig, 'TLS_CERT_FILE' | 'TLS_KEY_FILE' | 'GRPC_CLIENT_CA_FILE'>;

/**
 * Reads and checks the TLS files named by the config (undefined when TLS is not configured).
 * Every problem is reported at once, as a ConfigError naming the variable and the reason
 * (unreadable, not a PEM certificate / key, key does not match the certificate); file contents
 * are never echoed.
 */
export function readServerTls(config: TlsFiles): ServerTls | undefined {
  if (!tlsEnabled(config)) return undefined;
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
  const cert = read('TLS_CERT_FILE');
  const key = read('TLS_KEY_FILE');
  const clientCa = read('GRPC_CLIENT_CA_FILE');
  let leaf: X509Certificate | undefined;
  if (cert !== undefined) {
    try {
      leaf = new X509Certificate(cert);
    } catch {
      problems.push('TLS_CERT_FILE: not a PEM certificate');
    }
  }
  if (key !== undefined) {
    try {
      const k = createPrivateKey(key);
      if (leaf !== undefined && !leaf.checkPrivateKey(k)) {
        problems.push('TLS_KEY_FILE: does not match the certificate in TLS_CERT_FILE');
      }
    } catch {
      problems.push('TLS_KEY_FILE: not a PEM private key (or it is encrypted)');
    }
  }
  if (clientCa !== undefined) {
    try {
      if (!new X509Certificate(clientCa).ca) {
        problems.push('GRPC_CLIENT_CA_FILE: the certificate is not a CA');
      }
    } catch {
      problems.push('GRPC_CLIENT_CA_FILE: not a PEM certificate');
    }
  }
  if (problems.length > 0 || cert === undefined || key === undefined || clientCa === undefined) {
    throw new ConfigError('auth', problems);
  }
  return { cert, key, clientCa };
}

/** gRPC server credentials: TLS with a required, verified client certificate (mTLS). */
export function grpcServerCredentials(tls: ServerTls): ServerCredentials {
  return ServerCredentials.createSsl(
    tls.clientCa,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    true,
  );
}
