// The cache every worker thread shares (proxy-wasm shared data, one key per provider): the last
// good headers with their expiry, when the next fetch is due, who is fetching (a lease) and how
// many fetches failed in a row (for backoff). Encoded as little-endian binary.

export class HeaderPair {
  constructor(
    public name: ArrayBuffer,
    public value: ArrayBuffer,
  ) {}
}

export class SharedState {
  /** Until when the headers may be added (ms since the epoch); 0: none yet. */
  expiresAt: i64 = 0;
  /** When the next fetch is due. */
  nextFetchAt: i64 = 0;
  /** A fetch is in flight (by some thread) until this time. */
  leaseUntil: i64 = 0;
  failures: u32 = 0;
  headers: Array<HeaderPair> = [];

  encode(): ArrayBuffer {
    let size = 8 * 3 + 4 + 4;
    for (let i = 0; i < this.headers.length; i++) {
      size += 8 + this.headers[i].name.byteLength + this.headers[i].value.byteLength;
    }
    const out = new ArrayBuffer(size);
    let p = changetype<usize>(out);
    store<i64>(p, this.expiresAt);
    store<i64>(p + 8, this.nextFetchAt);
    store<i64>(p + 16, this.leaseUntil);
    store<u32>(p + 24, this.failures);
    store<u32>(p + 28, <u32>this.headers.length);
    p += 32;
    for (let i = 0; i < this.headers.length; i++) {
      p = putBytes(p, this.headers[i].name);
      p = putBytes(p, this.headers[i].value);
    }
    return out;
  }

  /** Decodes; a truncated or foreign value decodes as the empty state. */
  static decode(buf: ArrayBuffer | null): SharedState {
    const s = new SharedState();
    if (buf === null || buf.byteLength < 32) return s;
    const base = changetype<usize>(buf);
    const end = base + <usize>buf.byteLength;
    const expiresAt = load<i64>(base);
    const nextFetchAt = load<i64>(base + 8);
    const leaseUntil = load<i64>(base + 16);
    const failures = load<u32>(base + 24);
    const count = load<u32>(base + 28);
    let p = base + 32;
    const headers = new Array<HeaderPair>();
    for (let i: u32 = 0; i < count; i++) {
      const name = getBytes(p, end);
      if (name === null) return new SharedState();
      p += 4 + <usize>name.byteLength;
      const value = getBytes(p, end);
      if (value === null) return new SharedState();
      p += 4 + <usize>value.byteLength;
      headers.push(new HeaderPair(name, value));
    }
    s.expiresAt = expiresAt;
    s.nextFetchAt = nextFetchAt;
    s.leaseUntil = leaseUntil;
    s.failures = failures;
    s.headers = headers;
    return s;
  }
}

function putBytes(p: usize, b: ArrayBuffer): usize {
  store<u32>(p, <u32>b.byteLength);
  memory.copy(p + 4, changetype<usize>(b), <usize>b.byteLength);
  return p + 4 + <usize>b.byteLength;
}

function getBytes(p: usize, end: usize): ArrayBuffer | null {
  if (p + 4 > end) return null;
  const n = <usize>load<u32>(p);
  if (p + 4 + n > end) return null;
  const out = new ArrayBuffer(<i32>n);
  memory.copy(changetype<usize>(out), p + 4, n);
  return out;
}

export const BACKOFF_BASE_MS: i64 = 1000;
export const BACKOFF_CAP_MS: i64 = 30_000;

/** Delay before retry number `failures` (1, 2, ...): 1 s doubling, capped at 30 s and the expiry. */
export function backoffMs(failures: u32, expiryMs: i64): i64 {
  const cap = min<i64>(BACKOFF_CAP_MS, expiryMs);
  const shift = min<u32>(failures > 0 ? failures - 1 : 0, 20);
  return min<i64>(cap, BACKOFF_BASE_MS << shift);
}
