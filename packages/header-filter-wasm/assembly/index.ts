// The header filter: proxy-wasm entry points. The root context (one per worker thread) fetches
// the header provider on a timer and shares the result through shared data; stream contexts only
// copy the cached headers onto each request. Nothing on the request path calls the provider.
import {
  Action,
  BufferType,
  LogLevel,
  MapType,
  Status,
  getBuffer,
  getHeader,
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
  /** This thread has a call in flight (the host always answers it, timeout included). */
  pending: bool = false;
  constructor(public id: u32) {}
}

const roots = new Map<u32, Root>();
/** The common case, one plugin per VM: streams need no lookup (no per-stream allocation). */
let onlyRoot: Root | null = null;
const streamRoots = new Map<u32, u32>();

function rootOf(id: u32): Root | null {
  return roots.has(id) ? roots.get(id) : null;
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

export function proxy_on_context_create(id: u32, parent: u32): void {
  if (parent == 0) {
    const root = new Root(id);
    roots.set(id, root);
    onlyRoot = roots.size == 1 ? root : null;
  } else if (onlyRoot === null) {
    // Several plugins share this VM: remember each stream's root.
    streamRoots.set(id, parent);
  }
}

export function proxy_on_vm_start(_root: u32, _size: u32): bool {
  return true;
}

export function proxy_on_configure(rootId: u32, size: u32): bool {
  const root = rootOf(rootId);
  if (root === null) return false;
  const cfg = parseConfig(getBuffer(BufferType.PluginConfiguration, size));
  if (cfg.error.length > 0) {
    log(LogLevel.Critical, PREFIX + 'invalid configuration: ' + cfg.error);
    return false;
  }
  root.config = cfg;
  root.key = String.UTF8.encode(
    'edge.header_filter|' + cfg.cluster + '|' + cfg.authority + '|' + cfg.path,
  );
  root.localCas = 0;
  sync(root);
  const tick = <u32>min<i64>(1000, max<i64>(50, cfg.expiryMs / 10));
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
  const state = sync(root);
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

export function proxy_on_request_headers(contextId: u32, _numHeaders: u32, _eos: bool): i32 {
  let root = onlyRoot;
  if (root === null) {
    if (!streamRoots.has(contextId)) return Action.Continue;
    root = rootOf(streamRoots.get(contextId));
  }
  if (root === null || root.config === null) return Action.Continue;
  const cfg = root.config!;
  if (cfg.trapHeader.length > 0 && hasHeader(MapType.HttpRequestHeaders, cfg.trapHeader)) {
    log(LogLevel.Critical, PREFIX + 'trap requested by ' + cfg.trapHeader + ' (test only)');
    unreachable();
  }
  // A fresh VM (e.g. after a reload) before its first tick, or this thread's copy looks expired:
  // another thread may have renewed the shared headers since this thread's last tick.
  const now = nowMs();
  if (root.localCas == 0 || root.expiresAt <= now) sync(root);
  if (root.expiresAt > now) {
    const headers = root.headers;
    for (let i = 0; i < headers.length; i++) {
      replaceHeader(MapType.HttpRequestHeaders, headers[i].name, headers[i].value);
    }
    return Action.Continue;
  }
  if (cfg.failClosed) {
    sendLocalResponse(503, 'header_filter_no_headers', NO_HEADERS_BODY, [
      String.UTF8.encode('content-type'),
      String.UTF8.encode('application/json'),
    ]);
    return Action.Pause;
  }
  return Action.Continue;
}

// proxy_on_done is not exported: Envoy then treats every context as done at once.

export function proxy_on_delete(id: u32): void {
  if (streamRoots.size > 0 && streamRoots.has(id)) {
    streamRoots.delete(id);
  } else if (roots.has(id)) {
    roots.delete(id);
    onlyRoot = roots.size == 1 ? roots.values()[0] : null;
  }
}

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
