import { Controller, Inject, Logger } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { InjectDataSource } from '@nestjs/typeorm';
import { Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import { authV1, Clock, health } from '@edge/auth-contract';
import { type KeyEvent, KeyEventsService } from '../key-events/key-events.service';
import { AUTH_CONFIG, type AuthConfig } from '../config/config';
import { tokensNotBeforeAfterRotation } from '../keys/key-ownership';
import { KeysService } from '../keys/keys.service';
import { refusal, subscribedMessage, toEventMessage, toResultEnum } from './verification.mapping';

// Generous input bounds: anything larger is not a key of ours and is not worth hashing.
const MAX_FIELD = 256;

/** gRPC `edge.auth.v1.KeyVerificationService` (and grpc.health.v1), next to the HTTP API. */
@Controller()
export class VerificationController {
  private readonly logger = new Logger(VerificationController.name);

  constructor(
    private readonly keys: KeysService,
    private readonly events: KeyEventsService,
    private readonly clock: Clock,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: Pick<AuthConfig, 'JWT_MAX_TTL_SECONDS'>,
  ) {}

  // Method names are the generated service definition's (camelCase).
  @GrpcMethod('KeyVerificationService', 'verifyKey')
  async verifyKey(req: authV1.VerifyKeyRequest): Promise<authV1.VerifyKeyResponse> {
    const keyId = req.keyId;
    const secret = req.secret;
    if (keyId === '' || secret === '' || keyId.length > MAX_FIELD || secret.length > MAX_FIELD) {
      return refusal(keyId === '' ? 'unknown_key' : 'wrong_secret');
    }
    let v;
    try {
      v = await this.keys.verify(keyId, secret);
    } catch (err) {
      // Fail closed: callers must not treat an outage as a verdict.
      this.logger.error(`VerifyKey failed: ${(err as Error).message}`);
      throw new RpcException({ code: status.UNAVAILABLE, message: 'key store unavailable' });
    }
    if (v.result !== 'ok' || !v.key) return refusal(v.result);
    return {
      result: toResultEnum('ok'),
      principal: {
        tenant: v.key.tenantId,
        userId: v.key.userId,
        keyId: v.key.keyId,
        scopes: v.key.scopes.map((s) => ({ resource: s.resource, action: s.action })),
        expiresAt: v.key.expiresAt ?? undefined,
      },
      cacheTtlSeconds: v.cacheTtlSeconds,
    };
  }

  /**
   * With `afterSequence`: the log after it, then live events; without: live events. SUBSCRIBED
   * (with the sequence delivered so far) follows the replay, once this replica is LISTENing.
   * The stream fails with UNAVAILABLE when the replica's LISTEN connection drops (the client
   * resumes from its last sequence), OUT_OF_RANGE when `afterSequence` is past the log.
   */
  @GrpcMethod('KeyVerificationService', 'watchKeyEvents')
  watchKeyEvents(req: authV1.WatchKeyEventsRequest): Observable<authV1.WatchKeyEventsResponse> {
    return new Observable<authV1.WatchKeyEventsResponse>((sub) => {
      let sent = 0;
      // Live events are buffered until the replay is out, then deduplicated by sequence.
      let buffer: KeyEvent[] | undefined = [];
      const send = (e: KeyEvent): void => {
        if (e.sequence <= sent) return;
        sent = e.sequence;
        sub.next(toEventMessage(e));
      };
      const live = this.events.events().subscribe((e) => {
        if (buffer !== undefined) buffer.push(e);
        else send(e);
      });
      const down = this.events.disconnects().subscribe(() => {
        sub.error(
          new RpcException({ code: status.UNAVAILABLE, message: 'key event feed interrupted' }),
        );
      });
      const start = async (): Promise<void> => {
        await this.events.whenListening();
        if (req.afterSequence !== undefined) {
          const r = await this.events.readAfter(req.afterSequence);
          if (r.beyond) {
            throw new RpcException({
              code: status.OUT_OF_RANGE,
              message: 'after_sequence is past the key-event log; list revoked keys again',
            });
          }
          sent = req.afterSequence;
          for (const e of r.events) send(e);
        } else {
          sent = this.events.lastSequence;
        }
        const pending = buffer ?? [];
        buffer = undefined;
        for (const e of pending) send(e);
        sub.next(subscribedMessage(this.clock.now(), sent));
      };
      start().catch((err: unknown) => {
        if (err instanceof RpcException) {
          sub.error(err);
          return;
        }
        this.logger.error(`WatchKeyEvents failed: ${(err as Error).message}`);
        sub.error(new RpcException({ code: status.UNAVAILABLE, message: 'key store unavailable' }));
      });
      return () => {
        live.unsubscribe();
        down.unsubscribe();
      };
    });
  }

  /** Keys revoked / rotated within `withinSeconds` and the sequence to watch from. */
  @GrpcMethod('KeyVerificationService', 'listRevokedKeys')
  async listRevokedKeys(
    req: authV1.ListRevokedKeysRequest,
  ): Promise<authV1.ListRevokedKeysResponse> {
    const within = req.withinSeconds > 0 ? req.withinSeconds : this.config.JWT_MAX_TTL_SECONDS;
    try {
      const r = await this.events.revokedWithin(within);
      return {
        keys: r.keys.map((k) => ({ keyId: k.keyId, revokedAt: k.revokedAt })),
        // The same cut-off the rotation stored (tokens_not_before) and the gateway derives from
        // a ROTATED event's `at`: the next whole second.
        rotated: r.rotated.map((k) => ({
          keyId: k.keyId,
          tokensNotBefore: tokensNotBeforeAfterRotation(k.rotatedAt),
        })),
        sequence: r.sequence,
      };
    } catch (err) {
      this.logger.error(`ListRevokedKeys failed: ${(err as Error).message}`);
      throw new RpcException({ code: status.UNAVAILABLE, message: 'key store unavailable' });
    }
  }

  @GrpcMethod('Health', 'check')
  async check(req: health.HealthCheckRequest): Promise<health.HealthCheckResponse> {
    const service = req.service;
    if (service !== '' && service !== 'edge.auth.v1.KeyVerificationService') {
      throw new RpcException({ code: status.NOT_FOUND, message: 'unknown service' });
    }
    try {
      await this.db.query('SELECT 1');
      return { status: health.HealthCheckResponse_ServingStatus.SERVING };
    } catch {
      return { status: health.HealthCheckResponse_ServingStatus.NOT_SERVING };
    }
  }
}
