// The benchmark ext_proc server (its own process): a header-mutating processor and the same
// processor buffering the request body, selected per Envoy filter by gRPC metadata (the header
// processor without it). The transport (processor-core's node:http2 one or grpc-js) is the
// second argument.
import {
  BaseProcessor,
  createExtProcServer,
  jsonLogger,
  silentLogger,
  type BodyPhase,
  type HeadersPhase,
  type StreamContext,
} from '@edge/processor-core';
import { reportGc } from './gc-report';

class HeaderProcessor extends BaseProcessor {
  readonly name: string = 'headers';
  onRequestHeaders(ctx: StreamContext, p: HeadersPhase): void {
    p.setHeader('x-bench-path', ctx.path);
    p.removeHeader('x-drop-me');
  }
}

class BodyProcessor extends HeaderProcessor {
  override readonly name = 'body';
  override readonly mode = { requestHeaders: 'send' as const, requestBody: 'buffered' as const };
  onRequestBody(_ctx: StreamContext, b: BodyPhase): void {
    b.setHeader('x-body-bytes', String(b.body.length));
  }
}

// argv: port [transport: http2 (default) | grpc-js]
const server = createExtProcServer({
  host: '127.0.0.1',
  port: Number(process.argv[2]),
  transport: process.argv[3] === 'grpc-js' ? 'grpc-js' : 'http2',
  logger: process.env.EDGE_BENCH_LOG !== undefined ? jsonLogger({ level: 'debug' }) : silentLogger,
  // The header processor also serves a filter that names no processor (bench:authn puts this
  // server in the authn processor's place in the front proxy, whose filter sends no metadata).
  processor: new HeaderProcessor(),
  processors: [new BodyProcessor()],
});
server.listen().then(
  () => process.send?.('ready'),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

// Exit cleanly on a signal so `node --cpu-prof` can write its profile.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void server.shutdown({ graceMs: 500 }).finally(() => process.exit(0));
  });
}

reportGc();
