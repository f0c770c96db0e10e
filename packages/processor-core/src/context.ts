import { parseMetadataText } from './text-format';
import type { Headers } from './headers';

/** Values every processor of one HTTP stream shares (one object per ext_proc stream). */
export class StreamInfo {
  method = '';
  path = '';
  authority = '';
  scheme = '';
  requestId = '';
  /** ms since epoch when the ext_proc stream started. */
  readonly startTime = Date.now();
  /** Response `:status` once response headers were seen (0 before). */
  status = 0;
  requestHeaders: Headers | undefined;
  responseHeaders: Headers | undefined;
  requestTrailers: Headers | undefined;
  responseTrailers: Headers | undefined;
  /** Flattened request/response attributes: `{ 'request.path': '/x', 'source.address': '...' }`. */
  attributes: Record<string, unknown> = EMPTY;
  /** Forwarded metadata namespaces: `{ 'envoy.filters.http.jwt_authn': {...} }`. */
  metadataContext: Record<string, Record<string, unknown>> = EMPTY_NS;
  private md: Readonly<Record<string, string>> = EMPTY_STR;
  private mdSource: object | undefined;
  private mdBuild: ((source: never) => Record<string, string>) | undefined;

  /** gRPC initial metadata of the ext_proc stream (e.g. per-route `grpc_initial_metadata`). */
  get grpcMetadata(): Readonly<Record<string, string>> {
    if (this.mdBuild !== undefined) {
      this.md = this.mdBuild(this.mdSource as never);
      this.mdBuild = undefined;
      this.mdSource = undefined;
    }
    return this.md;
  }
  set grpcMetadata(md: Readonly<Record<string, string>>) {
    this.md = md;
    this.mdBuild = undefined;
    this.mdSource = undefined;
  }

  /**
   * @internal For transports: the metadata is `build(source)`, built on first read only (most
   * processors never read it; no closure per stream).
   */
  setLazyGrpcMetadata<S extends object>(
    source: S,
    build: (source: S) => Record<string, string>,
  ): void {
    this.mdSource = source;
    this.mdBuild = build;
  }
}

const EMPTY: Record<string, unknown> = Object.freeze({});
const EMPTY_NS = Object.freeze({}) as Record<string, Record<string, unknown>>;
const EMPTY_STR = Object.freeze({}) as Record<string, string>;

/**
 * What a processor sees of its stream: request line values, attributes, metadata and a typed
 * `state` bag of its own that lives across the phases of one HTTP request.
 */
export class StreamContext<TState extends object = Record<string, unknown>> {
  constructor(
    /** @internal */ readonly info: StreamInfo,
    /** This processor's own per-stream values. */
    public state: TState,
    readonly processorName: string,
  ) {}

  get method(): string {
    return this.info.method;
  }
  get path(): string {
    return this.info.path;
  }
  get authority(): string {
    return this.info.authority;
  }
  get scheme(): string {
    return this.info.scheme;
  }
  /** `x-request-id` as Envoy sent it ('' when absent). */
  get requestId(): string {
    return this.info.requestId;
  }
  get startTime(): number {
    return this.info.startTime;
  }
  /** Response status (0 until response headers were processed). */
  get status(): number {
    return this.info.status;
  }
  get requestHeaders(): Headers | undefined {
    return this.info.requestHeaders;
  }
  get responseHeaders(): Headers | undefined {
    return this.info.responseHeaders;
  }
  /** Request attributes Envoy sent (`request_attributes` / `response_attributes`), flattened. */
  get attributes(): Readonly<Record<string, unknown>> {
    return this.info.attributes;
  }
  /** One attribute, typed by the caller: `ctx.attribute<string>('source.address')`. */
  attribute<T = unknown>(name: string): T | undefined {
    return this.info.attributes[name] as T | undefined;
  }
  /** All forwarded metadata namespaces (`metadata_options.forwarding_namespaces`). */
  get metadataContext(): Readonly<Record<string, Readonly<Record<string, unknown>>>> {
    return this.info.metadataContext;
  }
  /**
   * One metadata namespace, typed by the caller. Looks in the forwarded metadata_context first,
   * then in the route metadata when Envoy sent the `xds.route_metadata` attribute. Never read
   * route policy with this: a filter could write a forwarded namespace of the same name; use
   * `routeMetadata()`.
   */
  metadata<T extends object = Record<string, unknown>>(namespace: string): T | undefined {
    const ns = this.info.metadataContext[namespace];
    if (ns !== undefined) return ns as T;
    return routeMetadataNamespace(this.info.attributes, namespace) as T | undefined;
  }
  /**
   * One namespace of the route's own metadata (`filter_metadata` of the matched route), read only
   * from the `xds.route_metadata` attribute: configuration, which no filter can write at run time.
   * Use this, not `metadata()`, for policy (`metadata()` prefers forwarded dynamic metadata).
   */
  routeMetadata<T extends object = Record<string, unknown>>(namespace: string): T | undefined {
    return routeMetadataNamespace(this.info.attributes, namespace) as T | undefined;
  }
  /** gRPC initial metadata of this ext_proc stream (e.g. set per route by `grpc_initial_metadata`). */
  get grpcMetadata(): Readonly<Record<string, string>> {
    return this.info.grpcMetadata;
  }
}

/** `xds.route_metadata` arrives as a Metadata message in protobuf text format (or, from the harness, an object). */
function routeMetadataNamespace(
  attributes: Record<string, unknown>,
  namespace: string,
): Record<string, unknown> | undefined {
  const rm = attributes['xds.route_metadata'];
  let fm: unknown;
  if (typeof rm === 'string') fm = parsedRouteMetadata(rm);
  else if (rm !== null && typeof rm === 'object')
    fm = (rm as { filter_metadata?: unknown }).filter_metadata;
  if (fm === null || typeof fm !== 'object') return undefined;
  const ns = (fm as Record<string, unknown>)[namespace];
  return ns !== null && typeof ns === 'object' ? (ns as Record<string, unknown>) : undefined;
}

// Route metadata strings repeat per route: parse each once.
const parsedCache = new Map<string, Record<string, Record<string, unknown>>>();
function parsedRouteMetadata(text: string): Record<string, Record<string, unknown>> {
  let v = parsedCache.get(text);
  if (v === undefined) {
    if (parsedCache.size > 256) parsedCache.clear();
    v = parseMetadataText(text);
    parsedCache.set(text, v);
  }
  return v;
}
