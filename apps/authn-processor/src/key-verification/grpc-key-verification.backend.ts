import { credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { AuthBackendUnavailable, AuthnFailure } from '../authn/authn-error';
import { type AuthTls } from '../tls/auth-tls';
import { authV1, type Principal } from '@edge/auth-contract';
import {
  type KeyEventListener,
  KeyEventLogReset,
  type KeyEventSubscription,
  KeyVerificationBackend,
  type RevokedKeysSnapshot,
  type VerifyKeyOutcome,
} from './key-verification.backend';

const { VerifyKeyResult, KeyEventType } = authV1;

export interface GrpcKeyVerificationOptions {
  /** host:port of the auth service's gRPC API. */
  readonly address: string;
  /** mTLS material; plaintext without it. */
  readonly tls?: AuthTls;
  /** Deadline of one VerifyKey call. */
  readonly verifyTimeoutMs: number;
}

export function principalFromProto(p: authV1.Principal): Principal {
  return {
    via: 'api_key',
    tenant: p.tenant,
    userId: p.userId,
    keyId: p.keyId,
    scopes: p.scopes.map((s) => ({ resource: s.resource, action: s.action })),
    validUntil: p.expiresAt ?? null,
  };
}

/** Maps a VerifyKey answer to an outcome; an unexpected shape fails closed (backend error). */
export function outcomeFromResponse(res: authV1.VerifyKeyResponse): VerifyKeyOutcome {
  switch (res.result) {
    case VerifyKeyResult.VERIFY_KEY_RESULT_OK:
      if (res.principal === undefined) {
        throw new AuthBackendUnavailable('VerifyKey answered OK without a principal');
      }
      return {
        kind: 'ok',
        principal: principalFromProto(res.principal),
        cacheTtlMs: res.cacheTtlSeconds * 1000,
      };
    case VerifyKeyResult.VERIFY_KEY_RESULT_UNKNOWN_KEY:
      return { kind: 'unknown-key' };
    case VerifyKeyResult.VERIFY_KEY_RESULT_WRONG_SECRET:
      return { kind: 'wrong-secret' };
    case VerifyKeyResult.VERIFY_KEY_RESULT_REVOKED:
      return { kind: 'revoked' };
    case VerifyKeyResult.VERIFY_KEY_RESULT_EXPIRED:
      return { kind: 'expired' };
    default:
      throw new AuthBackendUnavailable('VerifyKey gave an unrecognised result');
  }
}

/**
 * gRPC failures. INVALID_ARGUMENT means the auth service refused the key id or secret as
 * malformed (a client error: 401); everything else (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,
 * ...) means there is no answer, and the request fails closed with 503.
 */
export function errorFromGrpc(err: ServiceError): Error {
  if (err.code === GrpcStatus.INVALID_ARGUMENT) {
    return new AuthnFailure('MalformedCredentials', 'Key id or secret is malformed', 'basic');
  }
  const name = GrpcStatus[err.code] ?? String(err.code);
  return new AuthBackendUnavailable(`Auth service did not answer (${name})`, { cause: err });
}

/** KeyVerificationService over @grpc/grpc-js, one channel for both calls. */
export class GrpcKeyVerificationBackend extends KeyVerificationBackend {
  private readonly client: authV1.KeyVerificationServiceClient;

  constructor(private readonly opts: GrpcKeyVerificationOptions) {
    super();
    this.client = new authV1.KeyVerificationServiceClient(
      opts.address,
      opts.tls !== undefined
        ? credentials.createSsl(opts.tls.ca, opts.tls.key, opts.tls.cert)
        : credentials.createInsecure(),
      {
        // Reconnect fast after the auth service restarts (grpc-js defaults to 1 s..120 s).
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2_000,
        // Detect a dead peer on the long-lived watch stream.
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 5_000,
      },
    );
  }

  verifyKey(keyId: string, secret: string): Promise<VerifyKeyOutcome> {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + this.opts.verifyTimeoutMs);
      this.client.verifyKey({ keyId, secret }, new Metadata(), { deadline }, (err, res) => {
        if (err !== null) {
          reject(errorFromGrpc(err));
          return;
        }
        try {
          resolve(outcomeFromResponse(res));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }

  listRevokedKeys(withinSeconds: number): Promise<RevokedKeysSnapshot> {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + Math.max(this.opts.verifyTimeoutMs, 5_000));
      this.client.listRevokedKeys({ withinSeconds }, new Metadata(), { deadline }, (err, res) => {
        if (err !== null) {
          reject(
            new AuthBackendUnavailable(`ListRevokedKeys failed (${GrpcStatus[err.code]})`, {
              cause: err,
            }),
          );
          return;
        }
        resolve({
          keys: res.keys.map((k) => ({
            keyId: k.keyId,
            revokedAtMs: k.revokedAt?.getTime() ?? Date.now(),
          })),
          // A rotation without its cut-off cannot be applied: skipped (never from this server).
          rotated: res.rotated.flatMap((r) =>
            r.tokensNotBefore === undefined
              ? []
              : [{ keyId: r.keyId, notBeforeMs: r.tokensNotBefore.getTime() }],
          ),
          sequence: res.sequence,
        });
      });
    });
  }

  watchKeyEvents(listener: KeyEventListener, afterSequence?: number): KeyEventSubscription {
    const call = this.client.watchKeyEvents({ afterSequence });
    let closed = false;
    const close = (error: Error | undefined): void => {
      if (closed) return;
      closed = true;
      listener.onClose(error);
    };
    call.on('data', (msg: authV1.WatchKeyEventsResponse) => {
      if (closed) return;
      switch (msg.type) {
        case KeyEventType.KEY_EVENT_TYPE_SUBSCRIBED:
          listener.onEvent({ type: 'subscribed', sequence: msg.sequence });
          break;
        case KeyEventType.KEY_EVENT_TYPE_REVOKED:
        case KeyEventType.KEY_EVENT_TYPE_ROTATED:
          listener.onEvent({
            type: msg.type === KeyEventType.KEY_EVENT_TYPE_REVOKED ? 'revoked' : 'rotated',
            keyId: msg.keyId,
            sequence: msg.sequence,
            ...(msg.at !== undefined ? { atMs: msg.at.getTime() } : {}),
          });
          break;
        default:
          // Unknown event types from a newer auth service: ignore, the stream stays useful.
          break;
      }
    });
    call.on('error', (err: ServiceError) =>
      close(err.code === GrpcStatus.OUT_OF_RANGE ? new KeyEventLogReset() : err),
    );
    call.on('end', () => close(undefined));
    call.on('close', () => close(undefined));
    return {
      cancel: () => {
        closed = true;
        call.cancel();
      },
    };
  }

  close(): void {
    this.client.close();
  }
}
