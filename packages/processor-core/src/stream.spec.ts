import { describe, expect, it, vi } from 'vitest';
import { processingMode } from '@edge/protos';
import type { StreamContext } from './context';
import type { Logger } from './logger';
import { ExtProcMetrics } from './metrics';
import type { BodyPhase, HeadersPhase, TrailersPhase } from './phase';
import { BaseProcessor, compose, type Processor } from './processor';
import { createHarness } from './testing';

const GET = {
  ':method': 'GET',
  ':path': '/x',
  ':authority': 'example.com',
  ':scheme': 'http',
  'x-request-id': 'req-1',
};

class Mutator extends BaseProcessor {
  readonly name = 'mutator';
  onRequestHeaders(_ctx: StreamContext, p: HeadersPhase): void {
    p.setHeader('X-Set', 'one');
    p.appendHeader('x-append', 'a');
    p.appendHeader('x-append', 'b');
    p.addHeaderIfAbsent('x-absent', 'new');
    p.addHeaderIfAbsent('x-present', 'ignored');
    p.removeHeader('authorization');
  }
}

function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const mk = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    void lines.push({ level, fields, msg });
  const logger: Logger = {
    debug: mk('debug'),
    info: mk('info'),
    warn: mk('warn'),
    error: mk('error'),
  };
  return { logger, lines };
}

describe('header mutations', () => {
  it('maps set/append/add-if-absent/remove onto append actions and remove_headers', async () => {
    const h = createHarness(new Mutator());
    const r = await h.requestHeaders({ ...GET, 'x-present': 'here', authorization: 'Basic x' });
    expect(r.kind).toBe('requestHeaders');
    expect(r.headers.set).toEqual({ 'x-set': 'one' });
    expect(r.headers.append).toEqual({ 'x-append': ['a', 'b'] });
    expect(r.headers.addIfAbsent).toEqual({ 'x-absent': 'new' });
    expect(r.headers.remove).toEqual(['authorization']);
    // Wire-level: the HeaderValueOption carries the append_action and a raw_value.
    const opt =
      r.raw.response?.$case === 'requestHeaders'
        ? r.raw.response.value.response?.headerMutation?.setHeaders[0]
        : undefined;
    expect(opt?.appendAction).toBe(2); // OVERWRITE_IF_EXISTS_OR_ADD
    expect(opt?.append).toBe(false); // what Envoy's ext_proc actually reads
    expect(opt?.header?.rawValue.toString()).toBe('one');
  });

  it('sends nothing when nothing changed', async () => {
    class Reader extends BaseProcessor {
      readonly name = 'reader';
      onRequestHeaders(): void {}
    }
    const r = await createHarness(new Reader()).requestHeaders(GET);
    expect(r.unchanged).toBe(true);
    expect(r.raw.response?.$case).toBe('requestHeaders');
  });

  it('a later set wins over an earlier set/remove of the same header (removes apply first in Envoy)', async () => {
    const p: Processor = {
      name: 'p',
      onRequestHeaders(_c, ph) {
        ph.setHeader('x', '1');
        ph.removeHeader('x');
        ph.setHeader('x', '2');
        ph.setHeader('y', '1');
        ph.removeHeader('y');
      },
    };
    const r = await createHarness(p).requestHeaders(GET);
    expect(r.headers.set).toEqual({ x: '2' });
    expect(r.headers.remove).toEqual(['y']);
  });

  it('mutates trailers', async () => {
    const p: Processor = {
      name: 't',
      mode: { requestTrailers: 'send' },
      onRequestTrailers(_c, t: TrailersPhase) {
        expect(t.trailers.get('grpc-status')).toBe('0');
        t.setHeader('x-trailer', 'v');
      },
    };
    const h = createHarness(p);
    const r = await h.requestTrailers({ 'grpc-status': '0' });
    expect(r.kind).toBe('requestTrailers');
    expect(r.headers.set).toEqual({ 'x-trailer': 'v' });
  });
});

describe('bodies', () => {
  it('replaces a BUFFERED request body and sets content-length to the new length', async () => {
    class Upper extends BaseProcessor {
      readonly name = 'upper';
      override readonly mode = { requestBody: 'buffered' as const };
      onRequestBody(_c: StreamContext, b: BodyPhase): void {
        expect(b.headers.get('content-length')).toBe('5');
        b.replaceBody(b.body.toString().toUpperCase() + '!!');
      }
    }
    const h = createHarness(new Upper());
    expect(
      (await h.requestHeaders({ ...GET, ':method': 'POST', 'content-length': '5' })).unchanged,
    ).toBe(true);
    const r = await h.requestBody('hello');
    expect(r.bodyText).toBe('HELLO!!');
    expect(r.headers.set['content-length']).toBe('7');
    expect(r.replaced).toBe(false);
  });

  it('JSON-encodes an object body and sets content-type', async () => {
    const p: Processor = {
      name: 'j',
      mode: { requestBody: 'buffered' },
      onRequestBody(_c, b) {
        b.replaceBody({ wrapped: JSON.parse(b.body.toString()) as unknown });
      },
    };
    const h = createHarness(p);
    await h.requestHeaders({ ...GET, ':method': 'POST' });
    const r = await h.requestBody({ a: 1 });
    expect(JSON.parse(r.bodyText!)).toEqual({ wrapped: { a: 1 } });
    expect(r.headers.set['content-type']).toBe('application/json');
    expect(r.headers.set['content-length']).toBe(String(r.body!.length));
  });

  it('replaces the body from the headers phase with CONTINUE_AND_REPLACE', async () => {
    const p: Processor = {
      name: 'r',
      onRequestHeaders(_c, ph) {
        ph.replaceBody('new');
      },
    };
    const r = await createHarness(p).requestHeaders(GET);
    expect(r.replaced).toBe(true);
    expect(r.bodyText).toBe('new');
    expect(r.headers.set['content-length']).toBe('3');
  });

  it('clears a buffered body (content-length 0)', async () => {
    const p: Processor = {
      name: 'c',
      mode: { responseBody: 'buffered', responseHeaders: 'send' },
      onResponseBody(_c, b) {
        b.clearBody();
      },
    };
    const h = createHarness(p);
    await h.requestHeaders(GET);
    await h.responseHeaders({ ':status': '200' });
    const r = await h.responseBody('secret');
    expect(r.bodyCleared).toBe(true);
    expect(r.headers.set['content-length']).toBe('0');
  });

  it('removes content-length when a STREAMED chunk is replaced', async () => {
    const p: Processor = {
      name: 's',
      mode: { requestBody: 'streamed' },
      onRequestBody(_c, b) {
        b.replaceBody('x');
      },
    };
    const h = createHarness(p);
    await h.requestHeaders(GET);
    const r = await h.requestBody('abc', { endOfStream: false });
    expect(r.headers.remove).toEqual(['content-length']);
  });
});

describe('immediate responses and response-level fields', () => {
  it('answers with status, headers and a JSON body', async () => {
    const p: Processor = {
      name: 'deny',
      onRequestHeaders(_c, ph) {
        ph.immediateResponse({
          status: 401,
          body: { message: 'Unauthenticated' },
          headers: { 'WWW-Authenticate': 'Basic' },
          details: 'no_creds',
        });
      },
    };
    const r = await createHarness(p).requestHeaders(GET);
    expect(r.kind).toBe('immediateResponse');
    expect(r.immediate?.status).toBe(401);
    expect(r.immediate?.json).toEqual({ message: 'Unauthenticated' });
    expect(r.immediate?.headers['content-type']).toBe('application/json');
    expect(r.immediate?.headers['www-authenticate']).toBe('Basic');
    expect(r.immediate?.details).toBe('no_creds');
  });

  it('sends a plain-text body as is', async () => {
    const p: Processor = {
      name: 'x',
      onRequestHeaders: (_c, ph) => ph.immediateResponse({ status: 429, body: 'slow down' }),
    };
    const r = await createHarness(p).requestHeaders(GET);
    expect(r.immediate).toMatchObject({ status: 429, body: 'slow down', json: undefined });
    expect(r.immediate?.headers['content-type']).toBeUndefined();
  });

  it('emits dynamic metadata, mode_override and clear_route_cache', async () => {
    const p: Processor = {
      name: 'md',
      onRequestHeaders(_c, ph) {
        ph.setDynamicMetadata('edge.authn', { tenant: 't1' });
        ph.setDynamicMetadata('edge.authn', { user: 'u1', n: 2, ok: true });
        ph.overrideMode({ responseHeaders: 'skip' });
        ph.setHeader('x-route', 'b');
        ph.clearRouteCache();
      },
    };
    const r = await createHarness(p).requestHeaders(GET);
    expect(r.dynamicMetadata).toEqual({
      'edge.authn': { tenant: 't1', user: 'u1', n: 2, ok: true },
    });
    expect(r.modeOverride?.responseHeaderMode).toBe(
      processingMode.ProcessingMode_HeaderSendMode.SKIP,
    );
    expect(r.clearRouteCache).toBe(true);
  });
});

describe('context', () => {
  it('exposes request line values, attributes, metadata and carries typed state across phases', async () => {
    interface S {
      seenPath?: string;
      count: number;
    }
    const seen: unknown[] = [];
    class Stateful extends BaseProcessor<S> {
      readonly name = 'stateful';
      override readonly mode = { responseHeaders: 'send' as const };
      createState(): S {
        return { count: 0 };
      }
      onRequestHeaders(ctx: StreamContext<S>): void {
        ctx.state.seenPath = ctx.path;
        ctx.state.count++;
        seen.push(
          ctx.method,
          ctx.authority,
          ctx.scheme,
          ctx.requestId,
          ctx.attribute('source.address'),
        );
        seen.push(ctx.metadata<{ scopes: string[] }>('edge.route')?.scopes);
      }
      onResponseHeaders(ctx: StreamContext<S>, ph: HeadersPhase): void {
        ctx.state.count++;
        ph.setHeader('x-path', `${ctx.state.seenPath}:${ctx.state.count}:${ctx.status}`);
      }
    }
    const h = createHarness(new Stateful());
    await h.requestHeaders(GET, {
      attributes: { 'source.address': '10.0.0.1:1234', 'request.path': '/x' },
      metadataContext: { 'edge.route': { scopes: ['keys:read'] } },
    });
    const r = await h.responseHeaders({ ':status': '201' });
    expect(seen).toEqual(['GET', 'example.com', 'http', 'req-1', '10.0.0.1:1234', ['keys:read']]);
    expect(r.headers.set['x-path']).toBe('/x:2:201');
    expect(h.state<S>().count).toBe(2);
    expect(h.info.attributes['request.path']).toBe('/x');
  });

  it('a response-only stream takes its request line from the response attributes', async () => {
    const seen: string[] = [];
    const p: Processor = {
      name: 'resp-only',
      mode: { requestHeaders: 'skip', responseHeaders: 'send' },
      onResponseHeaders(ctx) {
        seen.push(
          ctx.method,
          ctx.path,
          ctx.authority,
          ctx.scheme,
          ctx.requestId,
          String(ctx.status),
        );
        seen.push(String(ctx.requestHeaders === undefined));
      },
    };
    await createHarness(p).responseHeaders(
      { ':status': '204' },
      {
        attributes: {
          'request.method': 'DELETE',
          'request.path': '/orders/1?x=1',
          'request.host': 'api.example.com',
          'request.scheme': 'https',
          'request.id': 'rid-9',
        },
      },
    );
    expect(seen).toEqual([
      'DELETE',
      '/orders/1?x=1',
      'api.example.com',
      'https',
      'rid-9',
      '204',
      'true',
    ]);
    // Without the attributes the request line stays empty (never undefined).
    seen.length = 0;
    await createHarness(p).responseHeaders({ ':status': '200' });
    expect(seen).toEqual(['', '', '', '', '', '200', 'true']);
  });

  it('reads per-route metadata from the xds.route_metadata attribute', async () => {
    let scopes: unknown;
    const p: Processor = {
      name: 'rm',
      onRequestHeaders(ctx) {
        scopes = ctx.metadata<{ required: string[] }>('edge.authn')?.required;
      },
    };
    await createHarness(p).requestHeaders(GET, {
      attributes: {
        'xds.route_metadata': { filter_metadata: { 'edge.authn': { required: ['a:b'] } } },
      },
    });
    expect(scopes).toEqual(['a:b']);
  });

  it('routeMetadata() reads the route only, never forwarded dynamic metadata', async () => {
    const seen: unknown[] = [];
    const p: Processor = {
      name: 'rm',
      onRequestHeaders(ctx) {
        seen.push(ctx.routeMetadata<{ required: string[] }>('edge.authn.route')?.required);
      },
    };
    // Dynamic metadata in the same namespace (written by some other filter) is ignored...
    await createHarness(p).requestHeaders(GET, {
      attributes: {
        'xds.route_metadata': { filter_metadata: { 'edge.authn.route': { required: ['a:b'] } } },
      },
      metadataContext: { 'edge.authn.route': { required: [] } },
    });
    // ...and cannot stand in for route metadata that is absent.
    await createHarness(p).requestHeaders(GET, {
      metadataContext: { 'edge.authn.route': { required: [] } },
    });
    expect(seen).toEqual([['a:b'], undefined]);
  });

  it('reads headers sent as `value` (older Envoy)', async () => {
    let path: string | undefined;
    const p: Processor = { name: 'v', onRequestHeaders: (ctx) => void (path = ctx.path) };
    await createHarness(p, { encoding: 'value' }).requestHeaders(GET);
    expect(path).toBe('/x');
  });

  it('runs onStreamEnd once', async () => {
    const end = vi.fn();
    const p: Processor = { name: 'e', onStreamEnd: end };
    const h = createHarness(p);
    await h.requestHeaders(GET);
    h.end();
    h.end('cancelled');
    expect(end).toHaveBeenCalledTimes(1);
  });
});

describe('compose', () => {
  const tag = (name: string): Processor => ({
    name,
    mode: { responseHeaders: 'send' },
    onRequestHeaders(_c, ph) {
      ph.appendHeader('x-chain', `${name}:${ph.headers.getAll('x-chain').length}`);
    },
  });

  it('runs processors in order; later ones see earlier mutations', async () => {
    const r = await createHarness(compose([tag('a'), tag('b')])).requestHeaders(GET);
    expect(r.headers.append['x-chain']).toEqual(['a:0', 'b:1']);
  });

  it('stops at the first immediate response', async () => {
    const deny: Processor = {
      name: 'deny',
      onRequestHeaders: (_c, ph) => ph.immediateResponse({ status: 403, body: { m: 'no' } }),
    };
    const after = vi.fn();
    const r = await createHarness(
      compose([tag('a'), deny, { name: 'z', onRequestHeaders: after }]),
    ).requestHeaders(GET);
    expect(r.immediate?.status).toBe(403);
    expect(after).not.toHaveBeenCalled();
  });

  it('unions the modes and names the chain', () => {
    const c = compose([tag('a'), { name: 'b', mode: { requestBody: 'buffered' } }]);
    expect(c.name).toBe('a+b');
    expect(c.mode.requestBody).toBe('buffered');
    expect(c.mode.responseHeaders).toBe('send');
    expect(() => compose([])).toThrow();
  });

  it('lists applied processors in a response header (and on immediate responses)', async () => {
    const h = createHarness(compose([tag('a'), tag('b')]), { appliedHeader: true });
    await h.requestHeaders(GET);
    const r = await h.responseHeaders({ ':status': '200' });
    expect(r.headers.append['x-ext-procs-applied']).toEqual(['a,b']);

    const deny: Processor = {
      name: 'deny',
      onRequestHeaders: (_c, ph) => ph.immediateResponse({ status: 401 }),
    };
    const r2 = await createHarness(compose([tag('a'), deny]), {
      appliedHeader: 'x-procs',
    }).requestHeaders(GET);
    expect(r2.immediate?.headers['x-procs']).toBe('a,deny');
  });

  it('keeps per-processor state', async () => {
    const counter = (name: string): Processor<{ n: number }> => ({
      name,
      createState: () => ({ n: 0 }),
      onRequestHeaders: (ctx) => void (ctx.state.n += name.length),
    });
    const h = createHarness(compose([counter('a'), counter('bbb')]));
    await h.requestHeaders(GET);
    expect(h.state<{ n: number }>(0).n).toBe(1);
    expect(h.state<{ n: number }>(1).n).toBe(3);
  });

  it('sends the declared mode as mode_override with enforceMode', async () => {
    const r = await createHarness(
      { name: 'm', mode: { requestBody: 'buffered' } },
      { enforceMode: true },
    ).requestHeaders(GET);
    expect(r.modeOverride?.requestBodyMode).toBe(
      processingMode.ProcessingMode_BodySendMode.BUFFERED,
    );
    expect(r.modeOverride?.responseHeaderMode).toBe(
      processingMode.ProcessingMode_HeaderSendMode.SKIP,
    );
  });
});

describe('closing after the last expected phase', () => {
  it('closes after request headers for a headers-only processor', async () => {
    const h = createHarness({ name: 'h' });
    await h.requestHeaders(GET);
    expect(h.serverClosed).toBe(true);
  });

  it('waits for the buffered body, unless the request has none', async () => {
    const p: Processor = { name: 'b', mode: { requestBody: 'buffered' } };
    const h = createHarness(p);
    await h.requestHeaders({ ...GET, ':method': 'POST' });
    expect(h.serverClosed).toBe(false);
    await h.requestBody('x');
    expect(h.serverClosed).toBe(true);
    const g = createHarness(p);
    await g.requestHeaders(GET, { endOfStream: true });
    expect(g.serverClosed).toBe(true);
  });

  it('waits for response headers when declared (or when the applied header is on)', async () => {
    const h = createHarness({ name: 'r' }, { appliedHeader: true });
    await h.requestHeaders(GET);
    expect(h.serverClosed).toBe(false);
    await h.responseHeaders({ ':status': '200' });
    expect(h.serverClosed).toBe(true);
  });
});

describe('closing after the last expected phase in observability mode', () => {
  const OBS = { observabilityMode: true };

  it('ends after the last message the mode expects, with no answer', async () => {
    const seen: string[] = [];
    const p: Processor = {
      name: 'obs',
      mode: { responseHeaders: 'send' },
      onRequestHeaders: () => void seen.push('req'),
      onResponseHeaders: () => void seen.push('resp'),
    };
    const h = createHarness(p);
    const r1 = await h.requestHeaders(GET, OBS);
    expect(r1.raw.response).toBeUndefined();
    expect(h.serverClosed).toBe(false);
    const r2 = await h.responseHeaders({ ':status': '200' }, OBS);
    expect(r2.raw.response).toBeUndefined();
    expect(h.serverClosed).toBe(true);
    expect(seen).toEqual(['req', 'resp']);
  });

  it('a headers-only processor ends after request headers; an async hook first finishes', async () => {
    let done = false;
    const h = createHarness({
      name: 'a',
      async onRequestHeaders() {
        await new Promise((r) => setTimeout(r, 5));
        done = true;
      },
    });
    await h.requestHeaders(GET, OBS);
    await vi.waitFor(() => expect(h.serverClosed).toBe(true));
    expect(done).toBe(true);
  });

  it('an immediate response is not due and does not end a stream that expects more', async () => {
    const h = createHarness({
      name: 'deny',
      mode: { responseHeaders: 'send' },
      onRequestHeaders: (_c, ph) => ph.immediateResponse({ status: 403 }),
    });
    const r = await h.requestHeaders(GET, OBS);
    expect(r.immediate).toBeUndefined();
    expect(h.serverClosed).toBe(false);
  });
});

describe('async hooks and ordering', () => {
  it('awaits async hooks and answers messages in order', async () => {
    const p: Processor = {
      name: 'slow',
      mode: { requestBody: 'streamed' },
      async onRequestHeaders(_c, ph) {
        await new Promise((r) => setTimeout(r, 20));
        ph.setHeader('x-slow', '1');
      },
      onRequestBody(_c, b) {
        b.replaceBody(b.body.toString() + '-seen');
      },
    };
    const h = createHarness(p);
    const [a, b] = await Promise.all([
      h.requestHeaders(GET),
      h.requestBody('c1', { endOfStream: false }),
    ]);
    expect(a.headers.set['x-slow']).toBe('1');
    expect(b.bodyText).toBe('c1-seen');
  });
});

describe('error policy', () => {
  const boom: Processor = {
    name: 'boom',
    onRequestHeaders() {
      throw new Error('kaput');
    },
  };

  it('turns a throw into an immediate JSON 500 and logs it with the request id', async () => {
    const { logger, lines } = recordingLogger();
    const r = await createHarness(boom, { logger }).requestHeaders(GET);
    expect(r.immediate?.status).toBe(500);
    expect(r.immediate?.json).toEqual({
      message: 'Internal Server Error',
      status: 500,
      details: 'ProcessorError The request could not be processed',
      request_id: 'req-1',
    });
    const line = lines.find((l) => l.level === 'error');
    expect(line?.fields).toMatchObject({
      requestId: 'req-1',
      processor: 'boom',
      phase: 'requestHeaders',
      outcome: 500,
    });
  });

  it('can answer 503 instead', async () => {
    const r = await createHarness(boom, { errorPolicy: { status: 503 } }).requestHeaders(GET);
    expect(r.immediate?.status).toBe(503);
    expect(r.immediate?.json).toMatchObject({ message: 'Service Unavailable', status: 503 });
  });

  it('uses the details the policy names', async () => {
    const r = await createHarness(boom, {
      errorPolicy: { status: 503, details: 'BackendDown Try again' },
    }).requestHeaders(GET);
    expect(r.immediate?.json).toEqual({
      message: 'Service Unavailable',
      status: 503,
      details: 'BackendDown Try again',
      request_id: 'req-1',
    });
  });

  it('can continue unchanged (fail open), and the stream goes on', async () => {
    const p: Processor = {
      name: 'half',
      mode: { responseHeaders: 'send' },
      async onRequestHeaders() {
        await Promise.resolve();
        throw new Error('rejected');
      },
      onResponseHeaders(_c, ph) {
        ph.setHeader('x-after', 'ok');
      },
    };
    const h = createHarness(p, { errorPolicy: 'continue' });
    const r = await h.requestHeaders(GET);
    expect(r.immediate).toBeUndefined();
    expect((await h.responseHeaders({ ':status': '200' })).headers.set['x-after']).toBe('ok');
    expect(h.stream.errored).toBe(true);
  });

  it("a processor's own policy beats the server's", async () => {
    const r = await createHarness(
      { ...boom, errorPolicy: { status: 503 } },
      { errorPolicy: 'continue' },
    ).requestHeaders(GET);
    expect(r.immediate?.status).toBe(503);
  });

  it('calls the onError hook and counts errors in metrics', async () => {
    const metrics = new ExtProcMetrics();
    const onError = vi.fn();
    await createHarness(boom, { metrics, hooks: { onError } }).requestHeaders(GET);
    expect(onError).toHaveBeenCalledWith(
      expect.any(Error),
      expect.objectContaining({
        failedProcessor: 'boom',
        phase: 'requestHeaders',
        requestId: 'req-1',
      }),
    );
    const text = await metrics.registry.metrics();
    expect(text).toContain('ext_proc_hook_errors_total{processor="boom",phase="requestHeaders"} 1');
    expect(text).toContain('ext_proc_immediate_responses_total{processor="boom",status="500"} 1');
  });
});
