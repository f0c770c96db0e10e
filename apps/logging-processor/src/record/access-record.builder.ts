import { type Headers } from '@edge/processor-core';
import { logV1, reusingEncoder } from '@edge/protos';
import { type AuthnIdentity } from '../identity/authn-identity';
import { type Redactor } from './redaction';

export const SCHEMA_VERSION = 1;

/** Which headers a record keeps: a list of lower-case names, or every header (`*`). */
export class HeaderSelection {
  private readonly all: boolean;
  private readonly names: ReadonlySet<string>;

  constructor(names: readonly string[]) {
    this.all = names.includes('*');
    this.names = new Set(names);
  }

  /** Selected, non-pseudo headers with redaction applied; repeated headers joined with ", ". */
  pick(headers: Headers | undefined, redactor: Redactor): Record<string, string> {
    const out: Record<string, string> = {};
    if (headers === undefined) return out;
    for (const [name, value] of headers) {
      if (name.startsWith(':')) continue;
      if (!this.all && !this.names.has(name)) continue;
      const v = redactor.headerValue(name, value);
      const prev = out[name];
      out[name] = prev === undefined ? v : `${prev}, ${v}`;
    }
    return out;
  }
}

/** A body kept up to `max` bytes; `truncated` once more was seen. */
export class BodyCapture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  add(chunk: Buffer): void {
    if (this.truncated || chunk.length === 0) return;
    const room = this.max - this.size;
    if (chunk.length > room) {
      if (room > 0) this.chunks.push(Buffer.from(chunk.subarray(0, room)));
      this.size = this.max;
      this.truncated = true;
      return;
    }
    this.chunks.push(Buffer.from(chunk));
    this.size += chunk.length;
  }

  content(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/** Everything the processor collected for one request, turned into a record at the end. */
export interface CollectedRequest {
  requestId: string;
  startMs: number;
  endMs: number;
  durationUs: number;
  method: string;
  scheme: string;
  authority: string;
  /** `:path` as Envoy sent it (with the query string). */
  rawPath: string;
  clientAddress: string;
  status: number;
  requestHeaders: Headers | undefined;
  responseHeaders: Headers | undefined;
  identity: AuthnIdentity | undefined;
  route: string;
  responseCodeDetails: string;
  processors: string[];
  requestBody: BodyCapture | undefined;
  responseBody: BodyCapture | undefined;
  /** Body bytes Envoy counted (access log); else the content-length header is used. */
  requestSize?: number;
  responseSize?: number;
}

function contentLength(h: Headers | undefined): number {
  const v = h?.get('content-length');
  if (v === undefined || !/^\d{1,15}$/.test(v)) return -1;
  return Number(v);
}

/** Builds the protobuf record: redaction happens here, so nothing unredacted leaves this function. */
export class AccessRecordBuilder {
  constructor(
    private readonly redactor: Redactor,
    private readonly requestHeaders: HeaderSelection,
    private readonly responseHeaders: HeaderSelection,
  ) {}

  build(c: CollectedRequest): logV1.AccessRecord {
    const q = c.rawPath.indexOf('?');
    const path = q < 0 ? c.rawPath : c.rawPath.slice(0, q);
    const query = q < 0 ? '' : c.rawPath.slice(q + 1);
    const body = (b: BodyCapture | undefined, h: Headers | undefined): logV1.Body | undefined =>
      b === undefined
        ? undefined
        : {
            content: this.redactor.body(b.content(), h?.get('content-type')),
            truncated: b.truncated,
          };
    return {
      schemaVersion: SCHEMA_VERSION,
      requestId: c.requestId,
      startTime: new Date(c.startMs),
      endTime: new Date(c.endMs),
      durationUs: Math.max(0, Math.round(c.durationUs)),
      method: c.method,
      scheme: c.scheme,
      authority: c.authority,
      path,
      query: this.redactor.query(query),
      clientAddress: c.clientAddress,
      status: c.status,
      requestSize: c.requestSize ?? contentLength(c.requestHeaders),
      responseSize: c.responseSize ?? contentLength(c.responseHeaders),
      requestHeaders: this.requestHeaders.pick(c.requestHeaders, this.redactor),
      responseHeaders: this.responseHeaders.pick(c.responseHeaders, this.redactor),
      tenant: c.identity?.tenant ?? '',
      userId: c.identity?.userId ?? '',
      keyId: c.identity?.keyId ?? '',
      authVia: c.identity?.via ?? '',
      route: c.route,
      processors: c.processors,
      responseCodeDetails: c.responseCodeDetails,
      requestBody: body(c.requestBody, c.requestHeaders),
      responseBody: body(c.responseBody, c.responseHeaders),
    };
  }
}

// One reused writer for every record (one record per request: bench:encode).
const encodeAccessRecord = reusingEncoder(logV1.AccessRecord);

/** The encoded record (what goes to Kafka). */
export function encodeRecord(r: logV1.AccessRecord): Buffer {
  const bytes = encodeAccessRecord(r);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
