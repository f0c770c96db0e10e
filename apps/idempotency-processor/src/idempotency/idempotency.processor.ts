import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BaseProcessor,
  type BodyPhase,
  type ErrorPolicy,
  type HeadersPhase,
  type ProcessingModeSpec,
  type StreamContext,
} from '@edge/processor-core';
import { Inject, Injectable } from '@nestjs/common';
import { readCallerIdentity } from '../identity/authn-identity';
import { LOGGER, type Logger } from '../logging/logger';
import { IdempotencyMetrics, type IdempotencyRecorder } from '../metrics/idempotency.metrics';
import {
  type AcquireResult,
  type Completion,
  IDEMPOTENCY_STORE,
  type IdempotencyStore,
  type StoredResponse,
} from '../store/idempotency.store';
import { entryKey, requestFingerprint } from './fingerprint';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from './idempotency-key';
import { answerProblem, type Problem } from './problem';
import {
  ROUTE_METADATA_NAMESPACE,
  type RoutePolicy,
  routePolicyParser,
  RoutePolicyError,
} from './route-policy';

/** Marks a replayed response (Stripe's name for it). */
export const REPLAY_HEADER = 'idempotent-replayed';
/** Says why a response is not protected: `store-unavailable` or `response-not-stored`. */
export const WARNING_HEADER = 'idempotency-warning';

/** Response headers never stored (hop-by-hop, or set afresh on every response). */
const UNSTORED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'date',
  WARNING_HEADER,
]);
/** Envoy refuses `x-envoy-*` headers from an ext_proc immediate response: not stored either. */
const ENVOY_HEADER_PREFIX = 'x-envoy-';

/**
 * Per request, where idempotency applies: the request body (fingerprint) and the response
 * headers. Sent as `mode_override` on the request headers answer; everything else keeps the
 * filter's smallest mode (request headers only).
 */
export const KEYED_MODE: ProcessingModeSpec = {
  requestHeaders: 'send',
  requestBody: 'buffered',
  responseHeaders: 'send',
  responseBody: 'none',
  requestTrailers: 'skip',
  responseTrailers: 'skip',
};
/** As KEYED_MODE, for a request that had no body to wait for. */
export const RESPONSE_MODE: ProcessingModeSpec = { ...KEYED_MODE, requestBody: 'none' };
/**
 * Asked on the response headers answer when the response is to be stored: BUFFERED when its
 * length is known to fit (Envoy keeps content-length), BUFFERED_PARTIAL otherwise (a body past
 * Envoy's buffer limit then arrives cut instead of failing the response).
 */
export const STORE_MODE: ProcessingModeSpec = { ...RESPONSE_MODE, responseBody: 'buffered' };
export const STORE_UNKNOWN_LENGTH_MODE: ProcessingModeSpec = {
  ...RESPONSE_MODE,
  responseBody: 'buffered-partial',
};
/** The most this processor asks for (see `mode`). */
const LARGEST_MODE: ProcessingModeSpec = { ...KEYED_MODE, responseBody: 'buffered-partial' };

export const IDEMPOTENCY_SETTINGS = Symbol('IDEMPOTENCY_SETTINGS');

export interface IdempotencySettings {
  keyPrefix: string;
  lockTtlMs: number;
  retentionSeconds: number;
  maxResponseBytes: number;
  retryAfterSeconds: number;
  /** Test hook: wait this long between the upstream's answer and the store. */
  testStoreDelayMs: number;
}

type Stage =
  /** idempotency does not apply (or the request was answered by this processor) */
  | 'off'
  /** key read; waiting for the body to fingerprint */
  | 'pending'
  /** this request holds the lock: its response must be stored (or the lock released) */
  | 'owner'
  /** response headers seen, body awaited */
  | 'owner-response'
  /** the store was unavailable and the route passes through: warn on the response */
  | 'unprotected'
  /** finished with the entry (stored, marked not stored, or released) */
  | 'settled';

export interface IdempotencyState {
  stage: Stage;
  key: string;
  owner: string;
  fingerprint: string;
  policy: RoutePolicy | undefined;
  status: number;
  headers: [string, string][] | undefined;
  /** Short id of the entry for logs (never the client's key). */
  entry: string;
}

/**
 * The Idempotency-Key ext_proc processor (draft-ietf-httpapi-idempotency-key-header, with
 * Stripe's replay semantics): the first request with a key takes an atomic lock in Redis and
 * goes to the upstream; its response is stored before the client gets it; a retry gets the
 * stored response (`idempotent-replayed: true`), a 409 while the first is in flight, a 422 when
 * the payload differs. Entries are scoped by the verified tenant, method, path and key.
 */
@Injectable()
export class IdempotencyProcessor extends BaseProcessor<IdempotencyState> {
  readonly name = 'idempotency';
  /**
   * The most it may need. The Envoy filter itself is configured with the smallest mode
   * (request headers only) and `allow_mode_override`; KEYED_MODE is asked per request.
   * Declared here so the SDK keeps the stream open for those phases.
   */
  override readonly mode: ProcessingModeSpec = LARGEST_MODE;
  /** A bug in a hook: answer 503 rather than let a keyed request run unprotected. */
  readonly errorPolicy: ErrorPolicy = { status: 503 };
  private readonly policyOf: ReturnType<typeof routePolicyParser>;

  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @Inject(IDEMPOTENCY_SETTINGS) private readonly settings: IdempotencySettings,
    @Inject(IdempotencyMetrics) private readonly metrics: IdempotencyRecorder,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
    this.policyOf = routePolicyParser({
      retentionSeconds: settings.retentionSeconds,
      maxResponseBytes: settings.maxResponseBytes,
    });
  }

  createState(): IdempotencyState {
    return {
      stage: 'off',
      key: '',
      owner: '',
      fingerprint: '',
      policy: undefined,
      status: 0,
      headers: undefined,
      entry: '',
    };
  }

  async onRequestHeaders(ctx: StreamContext<IdempotencyState>, phase: HeadersPhase): Promise<void> {
    let policy: RoutePolicy;
    try {
      // Policy only from the route's own metadata (configuration), never from forwarded
      // dynamic metadata, which another filter could write (ctx.metadata() would prefer it).
      policy = this.policyOf(ctx.routeMetadata(ROUTE_METADATA_NAMESPACE));
    } catch (e) {
      this.metrics.outcome('route_misconfigured');
      const sentence = e instanceof RoutePolicyError ? e.sentence : 'route metadata unreadable';
      this.logger.error({ request_id: ctx.requestId, path: pathOf(ctx) }, sentence);
      return this.problem(ctx, phase, {
        status: 500,
        code: 'route-misconfigured',
        detail: sentence,
      });
    }
    if (!policy.methods.has(ctx.method)) return; // a GET: this one header round trip is all

    const values = phase.headers.getAll(IDEMPOTENCY_KEY_HEADER);
    if (values.length === 0) {
      if (!policy.required) return;
      this.metrics.outcome('missing_key');
      return this.problem(ctx, phase, {
        status: 400,
        code: 'key-missing',
        detail: `${ctx.method} on this route needs an Idempotency-Key header (an sf-string such as "8e03978e-40d5-43e8-bc93-6894a57f9324").`,
      });
    }
    const parsed = parseIdempotencyKey(values);
    if (!parsed.ok) {
      this.metrics.outcome('malformed_key');
      return this.problem(ctx, phase, {
        status: 400,
        code: 'key-malformed',
        detail: `Idempotency-Key must be one RFC 8941 sf-string of 1 to 255 characters (${parsed.reason}).`,
        extra: { reason: parsed.reason },
      });
    }
    const identity = readCallerIdentity(ctx);
    if (identity === undefined) {
      this.metrics.outcome('unauthenticated');
      return this.problem(ctx, phase, {
        status: 401,
        code: 'unauthenticated',
        detail:
          'Idempotency-Key entries are kept per tenant; this request has no verified identity.',
      });
    }

    const s = ctx.state;
    s.policy = policy;
    s.key = entryKey(this.settings.keyPrefix, {
      tenant: identity.tenant,
      method: ctx.method,
      path: ctx.path,
      key: parsed.key,
    });
    s.entry = s.key.slice(-12);
    if (phase.endOfStream) {
      s.fingerprint = requestFingerprint((n) => phase.headers.get(n), Buffer.alloc(0));
      await this.begin(ctx, phase);
      if (s.stage === 'owner' || s.stage === 'unprotected') phase.overrideMode(RESPONSE_MODE);
      return;
    }
    s.stage = 'pending';
    phase.overrideMode(KEYED_MODE);
  }

  async onRequestBody(ctx: StreamContext<IdempotencyState>, phase: BodyPhase): Promise<void> {
    const s = ctx.state;
    if (s.stage !== 'pending') return;
    // BUFFERED: the whole body in one message (Envoy answers 413 itself past its buffer limit).
    s.fingerprint = requestFingerprint((n) => phase.headers.get(n), phase.body);
    await this.begin(ctx, phase);
  }

  /** Takes the lock, or answers from the entry that holds the key. */
  private async begin(
    ctx: StreamContext<IdempotencyState>,
    phase: HeadersPhase | BodyPhase,
  ): Promise<void> {
    const s = ctx.state;
    const policy = s.policy!;
    s.owner = randomUUID();
    let r: AcquireResult;
    const t0 = performance.now();
    try {
      r = await this.store.acquire(s.key, {
        fingerprint: s.fingerprint,
        owner: s.owner,
        lockTtlMs: this.settings.lockTtlMs,
      });
    } catch (err) {
      this.metrics.lockWait((performance.now() - t0) / 1000);
      this.metrics.redisError('acquire');
      return this.storeUnavailable(ctx, phase, policy, err);
    }
    this.metrics.lockWait((performance.now() - t0) / 1000);
    if (r.kind === 'acquired') {
      s.stage = 'owner';
      this.metrics.outcome('acquired');
      return;
    }
    this.metrics.hit();
    s.stage = 'off';
    if (r.fingerprint !== s.fingerprint) {
      this.metrics.outcome('mismatch');
      return this.problem(ctx, phase, {
        status: 422,
        code: 'payload-mismatch',
        detail: 'This Idempotency-Key was used with a different request body or content type.',
      });
    }
    switch (r.kind) {
      case 'in-flight':
        this.metrics.outcome('conflict');
        return this.problem(ctx, phase, {
          status: 409,
          code: 'request-in-flight',
          detail: 'The first request with this Idempotency-Key has not finished; retry later.',
          headers: { 'retry-after': String(this.settings.retryAfterSeconds) },
        });
      case 'completed-not-stored':
        this.metrics.outcome('not_stored_conflict');
        return this.problem(ctx, phase, {
          status: 409,
          code: 'response-not-stored',
          detail: `The request with this Idempotency-Key completed (status ${r.status}) but its response was not stored; it is not executed again.`,
          extra: { original_status: r.status },
        });
      case 'completed':
        this.metrics.outcome('replayed');
        return this.replay(ctx, phase, r.response);
    }
  }

  private replay(
    ctx: StreamContext<IdempotencyState>,
    phase: HeadersPhase | BodyPhase,
    res: StoredResponse,
  ): void {
    const headers: Record<string, string> = {};
    for (const [k, v] of res.headers) {
      const prev = headers[k];
      headers[k] = prev === undefined ? v : `${prev}, ${v}`;
    }
    headers[REPLAY_HEADER] = 'true';
    phase.immediateResponse({
      status: res.status,
      body: res.body,
      headers,
      details: 'idempotency_replayed',
    });
    this.logger.debug(
      {
        event: 'idempotency',
        outcome: 'replayed',
        request_id: ctx.requestId,
        entry: ctx.state.entry,
      },
      'response replayed',
    );
  }

  private storeUnavailable(
    ctx: StreamContext<IdempotencyState>,
    phase: HeadersPhase | BodyPhase,
    policy: RoutePolicy,
    err: unknown,
  ): void {
    const fields = {
      event: 'idempotency',
      request_id: ctx.requestId,
      path: pathOf(ctx),
      err: err instanceof Error ? err.message : String(err),
      action: policy.onStoreUnavailable,
    };
    this.logger.warn(fields, 'idempotency store unavailable');
    if (policy.onStoreUnavailable === 'fail-closed') {
      ctx.state.stage = 'off';
      this.metrics.outcome('store_unavailable_rejected');
      return this.problem(ctx, phase, {
        status: 503,
        code: 'store-unavailable',
        detail:
          'The idempotency store cannot be reached; the request was not executed. Retry with the same key.',
        headers: { 'retry-after': String(this.settings.retryAfterSeconds) },
      });
    }
    ctx.state.stage = 'unprotected';
    this.metrics.outcome('store_unavailable_passed');
  }

  onResponseHeaders(
    ctx: StreamContext<IdempotencyState>,
    phase: HeadersPhase,
  ): Promise<void> | void {
    const s = ctx.state;
    if (s.stage === 'unprotected') {
      phase.setHeader(WARNING_HEADER, 'store-unavailable');
      s.stage = 'settled';
      return;
    }
    if (s.stage !== 'owner') return;
    const policy = s.policy!;
    s.status = ctx.status;
    s.headers = storableHeaders(phase);
    if (s.status >= 500 && (!policy.storeServerErrors || !fromUpstream(ctx))) {
      // Not stored by policy, or the upstream never answered (Envoy's own 502/503/504): the
      // key is freed so a retry may execute.
      s.stage = 'settled';
      this.metrics.stored('released_5xx');
      return this.releaseLock(ctx);
    }
    const length = Number(phase.headers.get('content-length') ?? NaN);
    if (length > policy.maxResponseBytes) {
      phase.setHeader(WARNING_HEADER, 'response-not-stored');
      s.stage = 'settled';
      this.metrics.stored('too_large');
      return this.completeEntry(ctx, { stored: false, status: s.status }).then(() => undefined);
    }
    if (phase.endOfStream) {
      return this.finish(ctx, phase, Buffer.alloc(0));
    }
    s.stage = 'owner-response';
    phase.overrideMode(Number.isFinite(length) ? STORE_MODE : STORE_UNKNOWN_LENGTH_MODE);
  }

  async onResponseBody(ctx: StreamContext<IdempotencyState>, phase: BodyPhase): Promise<void> {
    const s = ctx.state;
    if (s.stage !== 'owner-response') return;
    // BUFFERED_PARTIAL (unknown length): a body past Envoy's buffer limit arrives cut.
    if (!phase.endOfStream || phase.body.length > s.policy!.maxResponseBytes) {
      phase.setHeader(WARNING_HEADER, 'response-not-stored');
      s.stage = 'settled';
      this.metrics.stored('too_large');
      await this.completeEntry(ctx, { stored: false, status: s.status });
      return;
    }
    return this.finish(ctx, phase, phase.body);
  }

  /** Stores the response, then lets it go to the client: the lock is held until stored. */
  private async finish(
    ctx: StreamContext<IdempotencyState>,
    phase: HeadersPhase | BodyPhase,
    body: Buffer,
  ): Promise<void> {
    const s = ctx.state;
    s.stage = 'settled';
    if (this.settings.testStoreDelayMs > 0) await sleep(this.settings.testStoreDelayMs);
    const ok = await this.completeEntry(ctx, {
      stored: true,
      response: { status: s.status, headers: s.headers ?? [], body },
    });
    if (ok) this.metrics.stored('stored');
    else phase.setHeader(WARNING_HEADER, 'response-not-stored');
  }

  /** Records the completion; false (logged, counted) when it could not be recorded. */
  private async completeEntry(
    ctx: StreamContext<IdempotencyState>,
    c: Completion,
  ): Promise<boolean> {
    const s = ctx.state;
    try {
      const ok = await this.store.complete(s.key, s.owner, c, s.policy!.retentionSeconds * 1000);
      if (!ok) {
        this.metrics.stored('lock_lost');
        this.logger.warn(
          { event: 'idempotency', request_id: ctx.requestId, entry: s.entry },
          'lock expired before the response was stored',
        );
      }
      return ok;
    } catch (err) {
      this.metrics.redisError('complete');
      this.metrics.stored('failed');
      this.logger.warn(
        {
          event: 'idempotency',
          request_id: ctx.requestId,
          entry: s.entry,
          err: err instanceof Error ? err.message : String(err),
        },
        'response not stored: idempotency store unavailable',
      );
      return false;
    }
  }

  private async releaseLock(ctx: StreamContext<IdempotencyState>): Promise<void> {
    try {
      await this.store.release(ctx.state.key, ctx.state.owner);
    } catch (err) {
      // The lock then expires after IDEMPOTENCY_LOCK_TTL_MS.
      this.metrics.redisError('release');
      this.logger.warn(
        {
          event: 'idempotency',
          request_id: ctx.requestId,
          entry: ctx.state.entry,
          err: err instanceof Error ? err.message : String(err),
        },
        'lock not released',
      );
    }
  }

  /**
   * The stream ended while this request held the lock (client gone, upstream reset...). If the
   * upstream had answered, it executed: record that without a stored response, so a retry is
   * not executed again. Otherwise nobody knows whether it executed: the lock is left to expire
   * (IDEMPOTENCY_LOCK_TTL_MS); a retry meanwhile gets 409.
   */
  onStreamEnd(ctx: StreamContext<IdempotencyState>): void {
    const s = ctx.state;
    if (s.stage !== 'owner-response') return;
    s.stage = 'settled';
    this.metrics.stored('interrupted');
    void this.completeEntry(ctx, { stored: false, status: s.status });
  }

  private problem(
    ctx: StreamContext<IdempotencyState>,
    phase: HeadersPhase | BodyPhase,
    p: Problem,
  ): void {
    answerProblem(phase, p, ctx.requestId);
    const fields = {
      event: 'idempotency',
      request_id: ctx.requestId,
      status: p.status,
      outcome: p.code,
      method: ctx.method,
      path: pathOf(ctx),
      entry: ctx.state.entry || undefined,
    };
    if (p.status >= 500) this.logger.warn(fields, 'request answered by idempotency');
    else this.logger.info(fields, 'request answered by idempotency');
  }
}

/** The path without its query (which may carry secrets), for logs. */
function pathOf(ctx: StreamContext<IdempotencyState>): string {
  return ctx.path.split('?', 1)[0] ?? '';
}

function storableHeaders(phase: HeadersPhase): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of phase.headers) {
    if (k.startsWith(':') || UNSTORED_HEADERS.has(k) || k.startsWith(ENVOY_HEADER_PREFIX)) continue;
    out.push([k, v]);
  }
  return out;
}

/**
 * Whether the response came from the upstream (Envoy attribute `response.code_details` is
 * `via_upstream`), rather than from Envoy itself (no healthy upstream, reset, timeout). Unknown
 * when the filter does not send the attribute: then it is taken as the upstream's.
 */
function fromUpstream(ctx: StreamContext<IdempotencyState>): boolean {
  const d = ctx.attribute<string>('response.code_details');
  return d === undefined || d === 'via_upstream';
}
