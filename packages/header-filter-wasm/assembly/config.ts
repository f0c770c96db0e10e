// The filter's plugin configuration (JSON). Unknown keys, wrong types and bad values are errors,
// so Envoy refuses the filter with one clear log line instead of running with a surprise.
import { JsonKind, JsonValue, parseJson } from './json';
import { nameProblem } from './headers';

export class FilterConfig {
  cluster: string = 'sidecar';
  authority: string = 'sidecar';
  path: string = '/headers';
  expiryMs: i64 = 360_000;
  timeoutMs: i64 = 5_000;
  /** No valid headers (before the first fetch, or after expiry): JSON 503 instead of passing. */
  failClosed: bool = false;
  /** Test-only: a request carrying this header traps the VM (exercises the failure policy). */
  trapHeader: string = '';
  error: string = '';
}

/** "360s", "1.5s", "250ms", "5m", "1h" → milliseconds; -1 when malformed. */
export function parseDurationMs(s: string): i64 {
  let unitAt = s.length;
  while (unitAt > 0) {
    const c = s.charCodeAt(unitAt - 1);
    if (c >= 0x30 && c <= 0x39) break;
    unitAt--;
  }
  const unit = s.substring(unitAt);
  const num = s.substring(0, unitAt);
  let scale: f64;
  if (unit == 'ms') scale = 1;
  else if (unit == 's') scale = 1000;
  else if (unit == 'm') scale = 60_000;
  else if (unit == 'h') scale = 3_600_000;
  else return -1;
  if (num.length == 0 || num.length > 12) return -1;
  let dot = false;
  for (let i = 0; i < num.length; i++) {
    const c = num.charCodeAt(i);
    if (c == 0x2e) {
      if (dot || i == 0 || i == num.length - 1) return -1;
      dot = true;
    } else if (c < 0x30 || c > 0x39) return -1;
  }
  return <i64>Math.round(parseFloat(num) * scale);
}

function stringField(v: JsonValue, key: string, cfg: FilterConfig): string {
  if (v.kind != JsonKind.String) {
    cfg.error = key + ' must be a string';
    return '';
  }
  const s = String.UTF8.decode(v.bytes);
  if (s.length == 0) cfg.error = key + ' must not be empty';
  return s;
}

function hasBlankOrControl(s: string): bool {
  for (let i = 0; i < s.length; i++)
    if (s.charCodeAt(i) <= 0x20 || s.charCodeAt(i) == 0x7f) return true;
  return false;
}

const MAX_EXPIRY_MS: i64 = 86_400_000;

export function parseConfig(bytes: ArrayBuffer): FilterConfig {
  const cfg = new FilterConfig();
  if (bytes.byteLength == 0) return cfg;
  const parsed = parseJson(bytes, 8);
  const root = parsed.value;
  if (root === null) {
    cfg.error = 'not JSON (' + parsed.error + ')';
    return cfg;
  }
  if (root.kind != JsonKind.Object) {
    cfg.error = 'not a JSON object';
    return cfg;
  }
  let timeoutSet = false;
  for (let i = 0; i < root.members.length && cfg.error.length == 0; i++) {
    const m = root.members[i];
    const key = String.UTF8.decode(m.key);
    const v = m.value;
    if (key == 'header_providing_service_cluster') {
      cfg.cluster = stringField(v, key, cfg);
    } else if (key == 'header_providing_service_authority') {
      cfg.authority = stringField(v, key, cfg);
      if (hasBlankOrControl(cfg.authority)) cfg.error = key + ' must be a host[:port]';
    } else if (key == 'header_providing_service_path') {
      cfg.path = stringField(v, key, cfg);
      if (cfg.error.length == 0 && (!cfg.path.startsWith('/') || hasBlankOrControl(cfg.path)))
        cfg.error = key + " must start with '/' and contain no blanks";
    } else if (key == 'header_cache_expiry') {
      const d = parseDurationMs(stringField(v, key, cfg));
      if (cfg.error.length == 0 && (d <= 0 || d > MAX_EXPIRY_MS))
        cfg.error = key + ' must be a duration like "360s" between 1ms and 24h';
      cfg.expiryMs = d;
    } else if (key == 'header_providing_service_timeout') {
      const d = parseDurationMs(stringField(v, key, cfg));
      if (cfg.error.length == 0 && d <= 0) cfg.error = key + ' must be a duration like "5s"';
      cfg.timeoutMs = d;
      timeoutSet = true;
    } else if (key == 'fail_closed') {
      if (v.kind != JsonKind.Bool) cfg.error = key + ' must be true or false';
      cfg.failClosed = v.bool;
    } else if (key == 'debug_trap_on_header') {
      cfg.trapHeader = stringField(v, key, cfg).toLowerCase();
      if (cfg.error.length == 0 && nameProblem(v.bytes).length > 0)
        cfg.error = key + ' must be a header name';
    } else {
      cfg.error = 'unknown key "' + key + '"';
    }
  }
  // Without an explicit timeout: 5 s, but never more than half the expiry.
  if (!timeoutSet && cfg.timeoutMs * 2 > cfg.expiryMs)
    cfg.timeoutMs = max<i64>(1, cfg.expiryMs / 2);
  if (cfg.error.length == 0 && cfg.timeoutMs >= cfg.expiryMs) {
    cfg.error = 'header_providing_service_timeout must be shorter than header_cache_expiry';
  }
  return cfg;
}
