// The header filter: proxy-wasm entry points. The root context (one per worker thread) fetches
// the header provider on a timer and shares the result through shared data; stream contexts only
// copy the cached headers onto each request. Nothing on the request path calls the provider.
//
// A request costs Envoy one call into the VM (proxy_on_request_headers) plus one host call per
// header: proxy_on_context_create, proxy_on_delete and proxy_on_done are not exported, so Envoy
// skips them for every stream (each call into V8 costs about a microsecond; see
// docs/benchmarks.md). Roots register in proxy_on_configure and count as gone once they stop
// ticking. With several plugins in one VM a stream finds its root by its plugin's name and root
// id (host properties), read only in that case.
import {
  Action,
  BufferType,
  LogLevel,
  MapType,
  Status,
  getBuffer,
  getHeader,
  getProperty,
  getSharedData,
  hasHeader,
  httpCall,
  lastStatus,
  log,
  nowMs,
  replaceHeader,
  sendLocalResponse,
  setSharedData,
  setTickPeriod,
} from './abi';
import { FilterConfig, parseConfig } from './config';
import { lowerAscii, nameProblem, valueProblem } from './headers';
import { JsonKind, parseJson } from './json';
import { HeaderPair, SharedState, backoffMs } from './state';

const PREFIX = 'header-filter: ';
/** Larger provider answers are a failed fetch, never read. */
const MAX_BODY_BYTES: u32 = 64 * 1024;
const MAX_HEADERS: i32 = 64;
const MAX_JSON_DEPTH: i32 = 16;
const NO_HEADERS_BODY =
  '{"message":"Service Unavailable","status":503,"details":"HeadersUnavailable No headers from the header provider yet"}';

class Root {
  config: FilterConfig | null = null;
  key: ArrayBuffer = new ArrayBuffer(0);
  /** Cas of the shared value the local copy was taken from (0: never synced). */
  localCas: u32 = 0;
  headers: Array<HeaderPair> = [];
  expiresAt: i64 = 0;
  /** `plugin_name` NUL `plugin_root_id`: what a stream can tell about its plugin. */
  identity: string = '';
  /** Order of configuration (the newest of several same-identity roots wins). */
  seq: i32 = 0;
  /** Last configure or tick (ms): a root that stopped ticking was deleted by Envoy. */
  lastSeenMs: i64 = 0;
  /** Tick period (ms) this root asked for. */
  tickMs: i64 = 1000;
  /**
   * Set on a tick when the headers stay valid past the next tick (with half a period to spare):
   * requests then skip the clock host call. Renewals only move expiresAt later, so it stays true
   * until the next tick recomputes it; near expiry requests read the clock as before.
   */
  validPastNextTick: bool = false;
  /** This thread has a call in flight (the host always answers it, timeout included). */
  pending: bool = false;
  constructor(public id: u32) {}
}

const roots = new Map<u32, Root>();
/** The common case, one plugin per VM: streams need no lookup and no host call. */
let onlyRoot: Root | null = null;
let configured: i32 = 0;
/** When the last "cannot tell which plugin" line was logged (at most one per 10 s). */
let ambiguousLoggedAt: i64 = -1;

function rootOf(id: u32): Root | null {
  return roots.has(id) ? roots.get(id) : null;
}

/** The current context's plugin: its name and root id (a root's, or a stream's own). */
function pluginIdentity(): string {
  const name = getProperty('plugin_name');
  const rootId = getProperty('plugin_root_id');
  return (
    (name === null ? '' : String.UTF8.decode(name)) +
    '\0' +
    (rootId === null ? '' : String.UTF8.decode(rootId))
  );
}

/** Alive: configured or ticked within three tick periods (plus a second for a busy thread). */
function alive(r: Root, now: i64): bool {
  return now - r.lastSeenMs <= 3 * r.tickMs + 1000;
}

/** Forgets roots Envoy deleted (they stopped ticking) and recomputes the single-root case. */
function prune(now: i64): void {
  const all = roots.values();
  for (let i = 0; i < all.length; i++) {
    if (!alive(all[i], now)) roots.delete(all[i].id);
  }
  onlyRoot = roots.size == 1 ? roots.values()[0] : null;
}

/**
 * The root of the current stream when several plugins share this VM: the live roots with the
 * stream's plugin identity. One of them, or several reading the same provider (an update in
 * progress: same headers), serve the newest; several identical identities with different
 * providers cannot be told apart, so none is used (no header from the wrong provider).
 */
function streamRoot(now: i64): Root | null {
  const identity = pluginIdentity();
  const all = roots.values();
  let best: Root | null = null;
  let ambiguous = false;
  for (let i = 0; i < all.length; i++) {
    const r = all[i];
    if (r.config === null || r.identity != identity || !alive(r, now)) continue;
    if (best === null) {
      best = r;
      continue;
    }
    if (!bytesEqual(r.key, best.key)) ambiguous = true;
    if (r.seq > best.seq) best = r;
  }
  if (!ambiguous) return best;
  if (ambiguousLoggedAt < 0 || now - ambiguousLoggedAt >= 10_000) {
    ambiguousLoggedAt = now;
    log(
      LogLevel.Error,
      PREFIX +
        'several configurations of plugin ' +
        identity.replace('\0', ' (root id ') +
        ') with different providers share this VM: a request cannot tell which is its own, so ' +
        'none adds headers; give each configuration its own plugin name or vm_id',
    );
  }
  // Fail closed if any of them would.
  for (let i = 0; i < all.length; i++) {
    const r = all[i];
    if (r.config !== null && r.identity == identity && r.config!.failClosed) return r;
  }
  return null;
}

function bytesEqual(a: ArrayBuffer, b: ArrayBuffer): bool {
  if (a.byteLength != b.byteLength) return false;
  return memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>a.byteLength) == 0;
}

/** Reads the shared state and refreshes this thread's copy when it changed. */
function sync(root: Root): SharedState {
  const shared = getSharedData(root.key);
  const state = SharedState.decode(shared.value);
  if (shared.value !== null && shared.cas != root.localCas) {
    root.localCas = shared.cas;
    root.headers = state.headers;
    root.expiresAt = state.expiresAt;
  }
  stateCas = shared.value === null ? 0 : shared.cas;
  return state;
}
let stateCas: u32 = 0;

/** A change to the shared state (AssemblyScript has no closures). */
abstract class Change {
  abstract apply(s: SharedState): void;
}

class Fetched extends Change {
  constructor(
    public headers: Array<HeaderPair>,
    public now: i64,
    public cfg: FilterConfig,
  ) {
    super();
  }
  apply(s: SharedState): void {
    s.headers = this.headers;
    s.expiresAt = this.now + this.cfg.expiryMs + this.cfg.timeoutMs;
    s.nextFetchAt = this.now + this.cfg.expiryMs;
    s.leaseUntil = 0;
    s.failures = 0;
  }
}

class Failed extends Change {
  constructor(
    public now: i64,
    public cfg: FilterConfig,
  ) {
    super();
  }
  apply(s: SharedState): void {
    s.failures += 1;
    s.nextFetchAt = this.now + backoffMs(s.failures, this.cfg.expiryMs);
    s.leaseUntil = 0;
  }
}

/** Read-modify-write of the shared state, retried when another thread wrote in between. */
function update(root: Root, change: Change): void {
  for (let attempt = 0; attempt < 8; attempt++) {
    const state = sync(root);
    change.apply(state);
    const status = setSharedData(root.key, state.encode(), stateCas);
    if (status == Status.Ok) {
      sync(root);
      return;
    }
    if (status != Status.CasMismatch) {
      log(LogLevel.Error, PREFIX + 'cannot write shared data (status ' + status.toString() + ')');
      return;
    }
  }
}

// ---- entry points ----

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_memory_allocate(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_vm_start(_root: u32, _size: u32): bool {
  return true;
}

export function proxy_on_configure(rootId: u32, size: u32): bool {
  const cfg = parseConfig(getBuffer(BufferType.PluginConfiguration, size));
  if (cfg.error.length > 0) {
    log(LogLevel.Critical, PREFIX + 'invalid configuration: ' + cfg.error);
    return false;
  }
  let root = rootOf(rootId);
  if (root === null) root = new Root(rootId);
  const now = nowMs();
  root.config = cfg;
  root.key = String.UTF8.encode(
    'edge.header_filter|' + cfg.cluster + '|' + cfg.authority + '|' + cfg.path,
  );
  root.identity = pluginIdentity();
  root.seq = ++configured;
  root.lastSeenMs = now;
  roots.set(rootId, root);
  prune(now);
  root.localCas = 0;
  sync(root);
  const tick = <u32>min<i64>(1000, max<i64>(50, cfg.expiryMs / 10));
  root.tickMs = tick;
  root.validPastNextTick = false;
  setTickPeriod(tick);
  log(
    LogLevel.Info,
    PREFIX +
      'fetching ' +
      cfg.path +
      ' from cluster ' +
      cfg.cluster +
      ' (authority ' +
      cfg.authority +
      ') every ' +
      cfg.expiryMs.toString() +
      ' ms, timeout ' +
      cfg.timeoutMs.toString() +
      ' ms',
  );
  return true;
}

export function proxy_on_tick(rootId: u32): void {
  const root = rootOf(rootId);
  if (root === null || root.config === null) return;
  const cfg = root.config!;
  const now = nowMs();
  root.lastSeenMs = now;
  if (roots.size > 1) prune(now);
  const state = sync(root);
  root.validPastNextTick = root.expiresAt - now > root.tickMs + root.tickMs / 2;
  if (root.pending || now < state.nextFetchAt || now < state.leaseUntil) return;
  // Take the lease: only the thread whose write wins fetches.
  state.leaseUntil = now + cfg.timeoutMs + 1000;
  if (setSharedData(root.key, state.encode(), stateCas) != Status.Ok) return;
  sync(root);
  const token = httpCall(
    cfg.cluster,
    [
      String.UTF8.encode(':method'),
      String.UTF8.encode('GET'),
      String.UTF8.encode(':path'),
      String.UTF8.encode(cfg.path),
      String.UTF8.encode(':authority'),
      String.UTF8.encode(cfg.authority),
      String.UTF8.encode('accept'),
      String.UTF8.encode('application/json'),
    ],
    <u32>cfg.timeoutMs,
  );
  if (token < 0) {
    fetchFailed(
      root,
      now,
      'cannot call cluster ' + cfg.cluster + ' (status ' + lastStatus.toString() + ')',
    );
    return;
  }
  root.pending = true;
}

export function proxy_on_http_call_response(
  rootId: u32,
  _token: u32,
  numHeaders: u32,
  bodySize: u32,
  _numTrailers: u32,
): void {
  const root = rootOf(rootId);
  if (root === null || root.config === null) return;
  root.pending = false;
  const now = nowMs();
  if (numHeaders == 0) {
    fetchFailed(root, now, 'no response (connection failure, reset or timeout)');
    return;
  }
  const status = getHeader(MapType.HttpCallResponseHeaders, ':status');
  const code = status === null ? '' : String.UTF8.decode(status);
  if (code != '200') {
    fetchFailed(root, now, 'status ' + code);
    return;
  }
  if (bodySize > MAX_BODY_BYTES) {
    fetchFailed(
      root,
      now,
      'body of ' + bodySize.toString() + ' bytes (limit ' + MAX_BODY_BYTES.toString() + ')',
    );
    return;
  }
  const parsed = parseJson(getBuffer(BufferType.HttpCallResponseBody, bodySize), MAX_JSON_DEPTH);
  const doc = parsed.value;
  if (doc === null) {
    fetchFailed(root, now, 'broken JSON (' + parsed.error + ')');
    return;
  }
  if (doc.kind != JsonKind.Object) {
    fetchFailed(root, now, 'the JSON is not an object');
    return;
  }
  const headers = new Array<HeaderPair>();
  const seen = new Set<string>();
  for (let i = 0; i < doc.members.length; i++) {
    const m = doc.members[i];
    const problem = memberProblem(m.key, m.value.kind, m.value.bytes);
    if (problem.length > 0) {
      log(LogLevel.Warn, PREFIX + 'skipped header #' + i.toString() + ': ' + problem);
      continue;
    }
    const name = lowerAscii(m.key);
    const lower = String.UTF8.decode(name);
    if (seen.has(lower)) {
      log(LogLevel.Warn, PREFIX + 'skipped header ' + lower + ': duplicate name');
      continue;
    }
    if (headers.length >= MAX_HEADERS) {
      log(
        LogLevel.Warn,
        PREFIX + 'skipped header ' + lower + ': more than ' + MAX_HEADERS.toString() + ' headers',
      );
      continue;
    }
    seen.add(lower);
    headers.push(new HeaderPair(name, m.value.bytes));
  }
  update(root, new Fetched(headers, now, root.config!));
  log(LogLevel.Debug, PREFIX + 'cached ' + headers.length.toString() + ' headers');
}

/** '' when the member is a header we serve; else why not (never quoting the value). */
function memberProblem(key: ArrayBuffer, kind: JsonKind, value: ArrayBuffer): string {
  const np = nameProblem(key);
  if (np.length > 0) return np;
  const name = String.UTF8.decode(key);
  if (kind != JsonKind.String) return name + ': value is not a string';
  const vp = valueProblem(value);
  if (vp.length > 0) return name + ': ' + vp;
  return '';
}

/** Keeps the last good headers until they expire; next try after a growing backoff. */
function fetchFailed(root: Root, now: i64, reason: string): void {
  const cfg = root.config!;
  update(root, new Failed(now, cfg));
  const state = SharedState.decode(getSharedData(root.key).value);
  const kept =
    state.expiresAt > now
      ? 'keeping ' +
        state.headers.length.toString() +
        ' headers for ' +
        (state.expiresAt - now).toString() +
        ' ms'
      : 'no valid headers';
  log(
    LogLevel.Warn,
    PREFIX +
      'fetch from ' +
      cfg.cluster +
      ' failed: ' +
      reason +
      '; ' +
      kept +
      '; retry in ' +
      (state.nextFetchAt - now).toString() +
      ' ms (failure ' +
      state.failures.toString() +
      ')',
  );
}

export function proxy_on_request_headers(_contextId: u32, _numHeaders: u32, _eos: bool): i32 {
  let root = onlyRoot;
  if (root === null) root = roots.size == 0 ? null : streamRoot(nowMs());
  if (root === null || root.config === null) return Action.Continue;
  const cfg = root.config!;
  if (cfg.trapHeader.length > 0 && hasHeader(MapType.HttpRequestHeaders, cfg.trapHeader)) {
    log(LogLevel.Critical, PREFIX + 'trap requested by ' + cfg.trapHeader + ' (test only)');
    unreachable();
  }
  if (!root.validPastNextTick) {
    // A fresh VM (e.g. after a reload) before its first tick, or this thread's copy looks
    // expired: another thread may have renewed the shared headers since this thread's last tick.
    const now = nowMs();
    if (root.localCas == 0 || root.expiresAt <= now) sync(root);
    if (root.expiresAt <= now) return noHeaders(cfg);
  }
  const headers = root.headers;
  for (let i = 0; i < headers.length; i++) {
    replaceHeader(MapType.HttpRequestHeaders, headers[i].name, headers[i].value);
  }
  return Action.Continue;
}

/** No valid headers: pass unchanged, or answer a JSON 503 (fail_closed). */
function noHeaders(cfg: FilterConfig): i32 {
  if (cfg.failClosed) {
    sendLocalResponse(503, 'header_filter_no_headers', NO_HEADERS_BODY, [
      String.UTF8.encode('content-type'),
      String.UTF8.encode('application/json'),
    ]);
    return Action.Pause;
  }
  return Action.Continue;
}

// Not exported, so Envoy makes no call for them: proxy_on_context_create (roots register in
// proxy_on_configure; streams need nothing), proxy_on_done (every context is done at once) and
// proxy_on_delete (a deleted root stops ticking and is pruned).

/** AssemblyScript's abort, routed to Envoy's log instead of an `env.abort` import. */
function onAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  log(
    LogLevel.Critical,
    PREFIX +
      'abort: ' +
      (message === null ? '' : message!) +
      ' at ' +
      (file === null ? '' : file!) +
      ':' +
      line.toString() +
      ':' +
      column.toString(),
  );
  unreachable();
}
