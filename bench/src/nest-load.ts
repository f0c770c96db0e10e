// The load client of `bench:nest` (its own process), playing Envoy over real gRPC at loopback:
// one HTTP/2 connection (like one Envoy worker), STREAMS concurrent loops; each loop opens a
// Process stream, sends request_headers, awaits the response (checks the `x-bench` mutation),
// half-closes and waits for the OK status, then starts the next stream. Latency = stream open
// to OK status. Only streams started after the warm-up and finished before the end count.
// argv: address streams seconds warmupSeconds. Reports to the parent over IPC:
// { event: 'window-start' | 'window-end' } and finally { event: 'result', ... }.
import { extProc } from '@edge/protos';
import { credentials, status } from '@grpc/grpc-js';

const [address, streamsArg, secondsArg, warmupArg] = process.argv.slice(2);
const STREAMS = Number(streamsArg);
const SECONDS = Number(secondsArg);
const WARMUP = Number(warmupArg);

const client = new extProc.ExternalProcessorClient(address!, credentials.createInsecure());
const request = extProc.ProcessingRequest.fromPartial({
  request: {
    $case: 'requestHeaders',
    value: {
      headers: {
        headers: [
          [':method', 'GET'],
          [':path', '/bench'],
          [':authority', 'bench.local'],
          [':scheme', 'http'],
          ['x-request-id', 'bench'],
          ['user-agent', 'edge-bench'],
        ].map(([key, v]) => ({ key, value: '', rawValue: Buffer.from(v!) })),
      },
      endOfStream: true,
    },
  },
});

function oneStream(): Promise<boolean> {
  return new Promise((resolve) => {
    let ok = false;
    let settled = false;
    const settle = (v: boolean): void => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    const call = client.process();
    call.on('data', (res: extProc.ProcessingResponse) => {
      const r = res.response;
      ok =
        r?.$case === 'requestHeaders' &&
        r.value.response?.headerMutation?.setHeaders[0]?.header?.key === 'x-bench';
      call.end();
    });
    call.on('error', () => settle(false));
    call.on('status', (s) => settle(s.code === status.OK && ok));
    call.write(request);
  });
}

async function main(): Promise<void> {
  const windowStart = performance.now() + WARMUP * 1000;
  const windowEnd = windowStart + SECONDS * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let total = 0;
  // Told to the parent (which samples the server's CPU time) by the first loop that sees them.
  let started = false;
  let ended = false;

  const loop = async (): Promise<void> => {
    for (;;) {
      const start = performance.now();
      if (!started && start >= windowStart) {
        started = true;
        process.send?.({ event: 'window-start' });
      }
      if (start >= windowEnd) {
        if (!ended) {
          ended = true;
          process.send?.({ event: 'window-end' });
        }
        return;
      }
      const ok = await oneStream();
      const end = performance.now();
      total++;
      if (start < windowStart || end > windowEnd) continue;
      if (ok) latencies.push(end - start);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: STREAMS }, loop));
  client.close();

  latencies.sort((a, b) => a - b);
  const q = (p: number): number =>
    latencies.length === 0
      ? NaN
      : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  process.send?.({
    event: 'result',
    streams: latencies.length,
    errors,
    total,
    perSecond: latencies.length / SECONDS,
    p50ms: q(0.5),
    p99ms: q(0.99),
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
