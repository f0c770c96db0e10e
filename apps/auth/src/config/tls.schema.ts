import { env, z } from '@edge/service-config';

/**
 * TLS for the auth service (issue 6 §4): one server certificate for the HTTP API (so the JWKS
 * is fetched over https) and the gRPC API, which then requires client certificates signed by
 * GRPC_CLIENT_CA_FILE (mTLS). All three files or none: none keeps plaintext, the default of the
 * dev stack on loopback. Plaintext on a non-loopback HOST is refused unless
 * ALLOW_PLAINTEXT_NON_LOOPBACK=true says so explicitly.
 */
export const authTlsEnvShape = {
  /** PEM server certificate chain (leaf first) for HTTPS and gRPC. */
  TLS_CERT_FILE: z.string().min(1).optional(),
  /** PEM private key of TLS_CERT_FILE. */
  TLS_KEY_FILE: z.string().min(1).optional(),
  /** PEM CA bundle that gRPC client certificates must chain to (mTLS on GRPC_PORT). */
  GRPC_CLIENT_CA_FILE: z.string().min(1).optional(),
  /** Explicit opt-in to serve plaintext on a HOST other than loopback. */
  ALLOW_PLAINTEXT_NON_LOOPBACK: env.bool(false),
};

export const TLS_FILE_VARIABLES = ['TLS_CERT_FILE', 'TLS_KEY_FILE', 'GRPC_CLIENT_CA_FILE'] as const;

type TlsEnv = { HOST: string } & {
  [K in (typeof TLS_FILE_VARIABLES)[number]]?: string | undefined;
} & { ALLOW_PLAINTEXT_NON_LOOPBACK: boolean };

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  return (
    host === 'localhost' ||
    host === '::1' ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** Cross-field checks of the TLS block, reported with every other problem. */
export function checkTlsEnv(c: TlsEnv, problem: (key: string, message: string) => void): void {
  const set = TLS_FILE_VARIABLES.filter((k) => c[k] !== undefined);
  if (set.length > 0 && set.length < TLS_FILE_VARIABLES.length) {
    for (const k of TLS_FILE_VARIABLES) {
      if (c[k] === undefined) {
        problem(k, `required when any of ${TLS_FILE_VARIABLES.join(', ')} is set`);
      }
    }
  }
  if (set.length === 0 && !isLoopbackHost(c.HOST) && !c.ALLOW_PLAINTEXT_NON_LOOPBACK) {
    problem(
      'HOST',
      'is not loopback: configure TLS_CERT_FILE, TLS_KEY_FILE and GRPC_CLIENT_CA_FILE, ' +
        'or set ALLOW_PLAINTEXT_NON_LOOPBACK=true',
    );
  }
}
