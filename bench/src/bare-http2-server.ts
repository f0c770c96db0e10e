// The floor of node:http2 for bench:core's `bare` row: a node:http2 server that answers each
// ext_proc stream's first DATA with a pre-encoded CONTINUE to the request headers (response
// HEADERS, the message, then trailers, the same frames processor-core's transport sends) and
// ends the stream. No processor-core, no decode, no metrics: what every node:http2 ext_proc
// server pays per stream, for comparison with processor-core's row in the same run.
// argv: port. Only for a filter that sends request headers and nothing else.
import { createServer, type ServerHttp2Stream } from 'node:http2';
import { DEFAULT_STREAM_RESET_RATE } from '@edge/processor-core';
import { extProc } from '@edge/protos';
import { reportGc } from './gc-report';

const message = extProc.ProcessingResponse.encode(
  extProc.ProcessingResponse.fromPartial({ response: { $case: 'requestHeaders', value: {} } }),
).finish();
// gRPC length prefix: not compressed, 4-byte big-endian length.
const prefix = Buffer.alloc(5);
prefix.writeUInt32BE(message.length, 1);
const CONTINUE = Buffer.concat([prefix, message]);
const HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const TRAILERS = { 'grpc-status': '0' };

const answered = new WeakSet<ServerHttp2Stream>();
function onData(this: ServerHttp2Stream): void {
  if (answered.has(this)) return;
  answered.add(this);
  this.respond(HEADERS, { waitForTrailers: true });
  this.end(CONTINUE);
}
function onWantTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(TRAILERS);
}
function ignore(): void {}

// The HTTP/2 settings processor-core's transport uses (defaults: 1024 streams, no session
// memory cap, the rapid-reset guard raised since Envoy resets each stream after the trailers).
const server = createServer({
  settings: { maxConcurrentStreams: 1024 },
  maxSessionMemory: Number.MAX_SAFE_INTEGER,
  streamResetBurst: DEFAULT_STREAM_RESET_RATE,
  streamResetRate: DEFAULT_STREAM_RESET_RATE,
});
server.on('stream', (stream) => {
  stream.on('data', onData);
  stream.on('wantTrailers', onWantTrailers);
  stream.on('error', ignore);
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0));
reportGc();
