import { Headers } from '@edge/processor-core';
import { type accessLogData, envoyCore } from '@edge/protos';
import { readAuthnIdentity } from '../identity/authn-identity';
import { type CollectedRequest } from './access-record.builder';

type Entry = accessLogData.HTTPAccessLogEntry;

const METHODS: Readonly<Record<number, string>> = {
  [envoyCore.RequestMethod.GET]: 'GET',
  [envoyCore.RequestMethod.HEAD]: 'HEAD',
  [envoyCore.RequestMethod.POST]: 'POST',
  [envoyCore.RequestMethod.PUT]: 'PUT',
  [envoyCore.RequestMethod.DELETE]: 'DELETE',
  [envoyCore.RequestMethod.CONNECT]: 'CONNECT',
  [envoyCore.RequestMethod.OPTIONS]: 'OPTIONS',
  [envoyCore.RequestMethod.TRACE]: 'TRACE',
  [envoyCore.RequestMethod.PATCH]: 'PATCH',
};

function durationMs(d: { seconds: number; nanos: number } | undefined): number | undefined {
  return d === undefined ? undefined : d.seconds * 1000 + d.nanos / 1e6;
}

function address(a: { address?: { $case: string; value: unknown } } | undefined): string {
  const v = a?.address;
  if (v?.$case !== 'socketAddress') return '';
  const sa = v.value as { address: string; portSpecifier?: { $case: string; value: unknown } };
  const port = sa.portSpecifier?.$case === 'portValue' ? `:${String(sa.portSpecifier.value)}` : '';
  return `${sa.address}${port}`;
}

function headersOf(map: Readonly<Record<string, string>> | undefined): Headers | undefined {
  if (map === undefined || Object.keys(map).length === 0) return undefined;
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) lower[k.toLowerCase()] = v;
  return Headers.fromRecord(lower);
}

/** What Envoy's access log tells about a request, plus its dynamic metadata (for `processors`). */
export interface AccessLogFacts {
  collected: CollectedRequest;
  /** No x-request-id: no ext_proc half can match it. */
  unpaired: boolean;
  metadata: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * One HTTP access-log entry (envoy.data.accesslog.v3) as a collected request: the request line,
 * the status, sizes and response code details Envoy recorded, the response headers it was
 * configured to log, and the identity from the dynamic metadata it carries
 * (`common_properties.metadata`). Undefined without a request id or stream id (nothing to key on).
 */
export function factsFromAccessLog(entry: Entry): AccessLogFacts | undefined {
  const common = entry.commonProperties;
  const req = entry.request;
  const res = entry.response;
  // A request Envoy refused before giving it an x-request-id (a malformed request) has no
  // ext_proc half to pair with: it is keyed by Envoy's stream id instead and goes out alone.
  const streamId = common?.streamId ?? '';
  const requestId = req?.requestId || (streamId === '' ? '' : `envoy-stream-${streamId}`);
  if (requestId === '') return undefined;
  const metadata = (common?.metadata?.filterMetadata ?? {}) as Record<
    string,
    Record<string, unknown>
  >;
  const startMs = common?.startTime?.getTime() ?? Date.now();
  const total = durationMs(common?.duration) ?? durationMs(common?.timeToLastDownstreamTxByte) ?? 0;
  return {
    metadata,
    unpaired: !req?.requestId,
    collected: {
      requestId,
      startMs,
      endMs: startMs + total,
      durationUs: total * 1000,
      method: METHODS[req?.requestMethod ?? 0] ?? '',
      scheme: req?.scheme ?? '',
      authority: req?.authority ?? '',
      rawPath: req?.originalPath || req?.path || '',
      clientAddress: address(common?.downstreamRemoteAddress),
      status: res?.responseCode ?? 0,
      requestHeaders: headersOf(req?.requestHeaders),
      responseHeaders: headersOf(res?.responseHeaders),
      identity: readAuthnIdentity(metadata),
      route: common?.routeName ?? '',
      responseCodeDetails: res?.responseCodeDetails ?? '',
      processors: [],
      requestBody: undefined,
      responseBody: undefined,
      requestSize: req?.requestBodyBytes ?? -1,
      responseSize: res?.responseBodyBytes ?? -1,
    },
  };
}

/**
 * One record from both halves of a request: what the ext_proc filter collected (headers,
 * bodies, its own timing) completed by what Envoy's access log knows for sure (the status and
 * size of a response the filter never saw, the response code details, Envoy's own duration).
 */
export function mergeCollected(ext: CollectedRequest, log: CollectedRequest): CollectedRequest {
  const extSawResponse = ext.status !== 0;
  const processors = [...ext.processors];
  for (const p of log.processors) if (!processors.includes(p)) processors.push(p);
  return {
    ...ext,
    endMs: Math.max(ext.endMs, log.endMs),
    durationUs: log.durationUs > 0 ? log.durationUs : ext.durationUs,
    status: extSawResponse ? ext.status : log.status,
    responseHeaders: extSawResponse ? ext.responseHeaders : log.responseHeaders,
    identity: ext.identity ?? log.identity,
    route: ext.route || log.route,
    responseCodeDetails: log.responseCodeDetails || ext.responseCodeDetails,
    clientAddress: ext.clientAddress || log.clientAddress,
    processors,
    requestSize: log.requestSize,
    responseSize: log.responseSize,
  };
}
