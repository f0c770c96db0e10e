import { ServerCredentials } from '@grpc/grpc-js';
import { readPemFiles } from '@edge/service-config';
import { type AuthConfig } from '../config/config';

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
 * Reads and checks the TLS files named by the config (undefined when TLS is not configured; the
 * schema guarantees all three or none). An unreadable file, a file that is not a PEM
 * certificate / key, a key that does not match the certificate or a client CA that is not a CA
 * is a ConfigError listing every problem by variable; contents are never echoed.
 */
export function readServerTls(config: TlsFiles): ServerTls | undefined {
  const { TLS_CERT_FILE, TLS_KEY_FILE, GRPC_CLIENT_CA_FILE } = config;
  if (TLS_CERT_FILE === undefined || TLS_KEY_FILE === undefined) return undefined;
  if (GRPC_CLIENT_CA_FILE === undefined) return undefined;
  const pem = readPemFiles('auth', {
    TLS_CERT_FILE: { path: TLS_CERT_FILE, kind: 'certificate' },
    TLS_KEY_FILE: { path: TLS_KEY_FILE, kind: 'private-key', of: 'TLS_CERT_FILE' },
    GRPC_CLIENT_CA_FILE: { path: GRPC_CLIENT_CA_FILE, kind: 'ca' },
  });
  return { cert: pem.TLS_CERT_FILE, key: pem.TLS_KEY_FILE, clientCa: pem.GRPC_CLIENT_CA_FILE };
}

/** gRPC server credentials: TLS with a required, verified client certificate (mTLS). */
export function grpcServerCredentials(tls: ServerTls): ServerCredentials {
  return ServerCredentials.createSsl(
    tls.clientCa,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    true,
  );
}
