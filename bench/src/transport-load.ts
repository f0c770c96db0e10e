// The load client of `bench:transport` (its own process): raw node:http2 playing Envoy's ext_proc
// client on one connection, CONCURRENCY loops; each opens a Process stream with the selector
// metadata, sends one pre-encoded request_headers message, waits for the answer and the status,
// then resets the stream as Envoy does. argv: port concurrency seconds. Prints a JSON result.
import { connect, constants } from 'node:http2';
import { extProc } from '@edge/protos';

const [portArg, concArg, secondsArg] = process.argv.slice(2);
const message = extProc.ProcessingRequest.encode(
  extProc.ProcessingRequest.fromPartial({
    request: {
      $case: 'requestHeaders',
      value: {
        headers: {
          headers: [
            [':method', 'GET'],
            [':path', '/headers/bench'],
            [':authority', '127.0.0.1'],
            [':scheme', 'http'],
            ['x-request-id', '4f1c1c3e-6a53-4c1e-9a43-1d2b5c1c0f11'],
            ['user-agent', 'wrk'],
            ['x-forwarded-proto', 'http'],
          ].map(([key, v]) => ({ key, value: '', rawValue: Buffer.from(v!) })),
        },
        endOfStream: true,
      },
    },
  }),
).finish();
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
frame.set(message, 5);
const HEADERS = {
  ':method': 'POST',
  ':path': '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
  'content-type': 'application/grpc',
  te: 'trailers',
  'x-ext-proc-processor': 'headers',
};

const session = connect(`http://127.0.0.1:${portArg}`);
const deadline = Date.now() + Number(secondsArg) * 1000;
let done = 0;
let errors = 0;

let broken = false;
session.on('error', () => (broken = true));
session.on('goaway', () => (broken = true));

function loop(): void {
  if (broken || Date.now() >= deadline) return finish();
  const s = session.request(HEADERS);
  let ok = false;
  s.on('data', () => (ok = true));
  s.on('trailers', (t: Record<string, string | undefined>) => {
    if (t['grpc-status'] !== '0' || !ok) errors++;
    done++;
    s.close(constants.NGHTTP2_CANCEL);
  });
  s.on('error', () => undefined);
  s.on('close', loop);
  s.write(frame);
}

let running = Number(concArg);
function finish(): void {
  if (--running > 0) return;
  console.log(JSON.stringify({ done, errors: errors + (broken ? 1 : 0) }));
  session.close();
}
session.on('connect', () => {
  for (let i = 0; i < Number(concArg); i++) loop();
});
