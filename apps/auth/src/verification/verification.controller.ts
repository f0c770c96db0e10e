import { Controller, Logger } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { InjectDataSource } from '@nestjs/typeorm';
import { concat, defer, from, map, type Observable, of, switchMap } from 'rxjs';
import { DataSource } from 'typeorm';
import { authV1, Clock, health } from '@edge/auth-contract';
import { KeyEventsService } from '../key-events/key-events.service';
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

  /** First SUBSCRIBED (once this replica is LISTENing), then every REVOKED / ROTATED event. */
  @GrpcMethod('KeyVerificationService', 'watchKeyEvents')
  watchKeyEvents(): Observable<authV1.WatchKeyEventsResponse> {
    return defer(() => from(this.events.whenListening())).pipe(
      switchMap(() =>
        concat(
          of(subscribedMessage(this.clock.now())),
          this.events.events().pipe(map(toEventMessage)),
        ),
      ),
    );
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
