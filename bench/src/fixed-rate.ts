// Fixed-rate load (wrk2-like, open loop) with microsecond latency: its own process.
// argv: url rate durationSec connections [post-body]
// env: EDGE_FIXED_RATE_HEADERS, a JSON object of extra request headers (e.g. Authorization).
import { Agent, request } from 'node:http';
import { quantile } from './quantile';

const [url, rateS, durS, connS, postBody] = process.argv.slice(2);
const rate = Number(rateS);
const durationMs = Number(durS) * 1000;
const agent = new Agent({ keepAlive: true, maxSockets: Number(connS) });
const u = new URL(url!);
const extraHeaders = JSON.parse(process.env.EDGE_FIXED_RATE_HEADERS ?? '{}') as Record<
  string,
  string
>;
const lat: number[] = [];
let errors = 0;
let inflight = 0;

function one(): void {
  const t0 = process.hrtime.bigint();
  inflight++;
  const req = request(
    {
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: postBody !== undefined ? 'POST' : 'GET',
      agent,
      headers:
        postBody !== undefined
          ? {
              ...extraHeaders,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(postBody),
            }
          : extraHeaders,
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        inflight--;
        if (res.statusCode !== 200) errors++;
        lat.push(Number(process.hrtime.bigint() - t0) / 1000);
      });
    },
  );
  req.on('error', () => {
    inflight--;
    errors++;
  });
  req.end(postBody);
}

const start = Date.now();
let sent = 0;
const timer = setInterval(() => {
  const due = Math.floor(((Date.now() - start) * rate) / 1000);
  while (sent < due) {
    one();
    sent++;
  }
  if (Date.now() - start >= durationMs) {
    clearInterval(timer);
    const wait = setInterval(() => {
      if (inflight === 0) {
        clearInterval(wait);
        lat.sort((a, b) => a - b);
        const q = (p: number): number => quantile(lat, p) ?? 0;
        process.stdout.write(
          JSON.stringify({
            count: lat.length,
            errors,
            p50us: q(0.5),
            p99us: q(0.99),
            rps: lat.length / (durationMs / 1000),
          }),
        );
        agent.destroy();
      }
    }, 20);
  }
}, 1);
