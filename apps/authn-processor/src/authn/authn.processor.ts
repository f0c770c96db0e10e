import {
  BaseProcessor,
  type ErrorPolicy,
  type HeadersPhase,
  type ProcessingModeSpec,
  SMALLEST_MODE,
  type StreamContext,
} from '@edge/processor-core';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { LOGGER, type Logger } from '../logging/logger';
import { AuthnMetrics, type DecisionRecorder } from '../metrics/authn.metrics';
import { type AuthnDecision, Authenticator, errorBody } from './authenticator';
import {
  AUTHN_DYNAMIC_METADATA_NAMESPACE,
  errorDetails,
  formatScopes,
  type Principal,
} from '@edge/auth-contract';
import {
  parseRoutePolicy,
  ROUTE_METADATA_NAMESPACE,
  RoutePolicyError,
  type RoutePolicy,
} from './route-policy';

/** Identity headers the upstream trusts: always removed from the client's request, then set. */
export const IDENTITY_HEADERS = ['x-tenant-id', 'x-user-id', 'x-key-id', 'x-scopes'] as const;

/** Dynamic metadata namespace with the verified identity (for access logs / later filters). */
export const DYNAMIC_METADATA_NAMESPACE = AUTHN_DYNAMIC_METADATA_NAMESPACE;

/**
 * The authn ext_proc processor: request headers only. Verifies `Authorization` (Basic API key
 * or Bearer JWT), enforces the route's required scopes, and on success replaces credentials
 * with identity headers; otherwise answers 401/403/503 JSON directly. A hook error (a bug)
 * fails closed with 503 too.
 */
@Injectable()
export class AuthnProcessor extends BaseProcessor {
  readonly name = 'authn';
  /** The fastest mode: request headers only; no bodies, no response or trailer phases. */
  override readonly mode: ProcessingModeSpec = SMALLEST_MODE;
  /** A bug in a hook fails closed, with the same 503 body as a backend outage. */
  readonly errorPolicy: ErrorPolicy = {
    status: 503,
    details: errorDetails('AuthBackendUnavailable', 'Authentication could not be completed'),
  };

  constructor(
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(AuthnMetrics) private readonly metrics?: DecisionRecorder,
  ) {
    super();
  }

  async onRequestHeaders(ctx: StreamContext, phase: HeadersPhase): Promise<void> {
    let policy: RoutePolicy;
    try {
      policy = parseRoutePolicy(ctx.routeMetadata(ROUTE_METADATA_NAMESPACE));
    } catch (e) {
      const sentence = e instanceof RoutePolicyError ? e.sentence : 'route metadata unreadable';
      this.deny(ctx, phase, {
        kind: 'deny',
        status: 500,
        code: 'RouteMisconfigured',
        body: errorBody(500, 'RouteMisconfigured', sentence),
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      });
      return;
    }
    const decision = await this.authenticator.decide(phase.headers.getAll('authorization'), policy);
    if (decision.kind === 'deny') {
      this.deny(ctx, phase, decision);
      return;
    }
    this.allow(ctx, phase, decision.principal);
  }

  private allow(ctx: StreamContext, phase: HeadersPhase, p: Principal | undefined): void {
    this.metrics?.record(p === undefined ? 'public' : 'allow');
    phase.removeHeader('authorization');
    // Envoy header names are case-insensitive (lower-cased on the wire to ext_proc): removing
    // the lower-case name removes every case variant and every repeated value.
    for (const h of IDENTITY_HEADERS) phase.removeHeader(h);
    if (p !== undefined) {
      phase.setHeader('x-tenant-id', p.tenant);
      phase.setHeader('x-user-id', p.userId);
      phase.setHeader('x-key-id', p.keyId);
      if (p.scopes.length > 0) phase.setHeader('x-scopes', formatScopes(p.scopes));
      phase.setDynamicMetadata(DYNAMIC_METADATA_NAMESPACE, {
        via: p.via,
        tenant: p.tenant,
        user_id: p.userId,
        key_id: p.keyId,
      });
    }
    this.logger.debug(
      {
        event: 'authn',
        request_id: ctx.requestId,
        outcome: p === undefined ? 'public' : 'allow',
        via: p?.via,
        tenant: p?.tenant,
        key_id: p?.keyId,
      },
      'request authenticated',
    );
  }

  private deny(ctx: StreamContext, phase: HeadersPhase, d: AuthnDecision & { kind: 'deny' }): void {
    this.metrics?.record(d.code);
    phase.immediateResponse({
      status: d.status,
      body: d.body,
      headers: { ...d.headers },
      details: `authn_${d.code}`,
    });
    const fields = {
      event: 'authn',
      request_id: ctx.requestId,
      outcome: d.code,
      status: d.status,
      method: ctx.method,
      // The path without its query string (which could carry tokens).
      path: ctx.path.split('?', 1)[0],
      key_id: d.principal?.keyId,
      tenant: d.principal?.tenant,
    };
    if (d.status >= 500) this.logger.warn(fields, 'request refused');
    else this.logger.info(fields, 'request refused');
  }
}
