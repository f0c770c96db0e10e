// The built module (dist/header-filter.wasm) driven through the proxy-wasm ABI by a JS host:
// configuration, the out-of-band fetch schedule, the shared cache, validation and failure paths.
import { describe, expect, it } from 'vitest';
import { FakeHost, type SharedData } from './testing/fake-host';

const CRITICAL = 5;
const WARN = 3;
const CONTINUE = 0;
const PAUSE = 1;

const cfg = {
  header_providing_service_cluster: 'header_provider',
  header_providing_service_authority: 'header-provider',
  header_providing_service_path: '/headers',
  header_cache_expiry: '10s',
  header_providing_service_timeout: '1s',
};

function started(config: object = cfg, shared?: SharedData): FakeHost {
  const host = new FakeHost(shared);
  expect(host.start(config)).toBe(true);
  return host;
}

/** Starts, fetches once and answers with `body`. */
function fetched(body: object | string, config: object = cfg): FakeHost {
  const host = started(config);
  host.tick();
  host.respond(200, typeof body === 'string' ? body : JSON.stringify(body));
  return host;
}

describe('the module', () => {
  it('imports only proxy-wasm 0.2.1 host functions that Envoy provides', () => {
    const host = new FakeHost();
    expect(host.importNames.sort()).toEqual(
      [
        'env.proxy_get_buffer_bytes',
        'env.proxy_get_current_time_nanoseconds',
        'env.proxy_get_header_map_value',
        'env.proxy_get_shared_data',
        'env.proxy_http_call',
        'env.proxy_log',
        'env.proxy_replace_header_map_value',
        'env.proxy_send_local_response',
        'env.proxy_set_shared_data',
        'env.proxy_set_tick_period_milliseconds',
      ].sort(),
    );
  });
});

describe('configuration', () => {
  it('uses the documented defaults when the configuration is empty', () => {
    const host = started({});
    expect(host.tickPeriodMs).toBe(1000);
    host.tick();
    expect(host.calls).toHaveLength(1);
    expect(host.calls[0]!.cluster).toBe('sidecar');
    expect(host.calls[0]!.timeoutMs).toBe(5000);
    expect(Object.fromEntries(host.calls[0]!.headers)).toEqual({
      ':method': 'GET',
      ':path': '/headers',
      ':authority': 'sidecar',
      accept: 'application/json',
    });
  });

  it.each([
    ['not JSON', '{"header_cache_expiry": ', 'not JSON'],
    ['not an object', '["x"]', 'not a JSON object'],
    [
      'an unknown key',
      { header_cache_expiry: '1s', header_cache_expiri: '1s' },
      'unknown key "header_cache_expiri"',
    ],
    [
      'a duration without unit',
      { header_cache_expiry: '360' },
      'header_cache_expiry must be a duration',
    ],
    ['a zero duration', { header_cache_expiry: '0s' }, 'header_cache_expiry must be a duration'],
    [
      'a number for a duration',
      { header_cache_expiry: 360 },
      'header_cache_expiry must be a string',
    ],
    [
      'an empty cluster',
      { header_providing_service_cluster: '' },
      'header_providing_service_cluster must not be empty',
    ],
    [
      'a path without slash',
      { header_providing_service_path: 'headers' },
      "header_providing_service_path must start with '/'",
    ],
    [
      'an authority with blanks',
      { header_providing_service_authority: 'a b' },
      'header_providing_service_authority must be a host[:port]',
    ],
    [
      'a timeout not below the expiry',
      { header_cache_expiry: '2s', header_providing_service_timeout: '2s' },
      'header_providing_service_timeout must be shorter than header_cache_expiry',
    ],
    ['fail_closed not a boolean', { fail_closed: 'yes' }, 'fail_closed must be true or false'],
  ])('refuses %s with one critical log line', (_name, config, reason) => {
    const host = new FakeHost();
    expect(host.start(config as object)).toBe(false);
    expect(host.logged(CRITICAL, `header-filter: invalid configuration: ${reason}`)).toBe(true);
  });

  it('accepts ms, s, m and h durations and caps the default timeout at half the expiry', () => {
    const host = started({ header_cache_expiry: '1.5s' });
    host.tick();
    expect(host.calls[0]!.timeoutMs).toBe(750);
    for (const expiry of ['250ms', '2m', '1h'])
      expect(new FakeHost().start({ header_cache_expiry: expiry })).toBe(true);
  });
});

describe('fetching out of band', () => {
  it('fetches on the first tick, not on requests, and once per expiry', () => {
    const host = started();
    host.request();
    expect(host.calls).toHaveLength(0);
    host.tick();
    expect(host.calls).toHaveLength(1);
    host.respond(200, '{"x-a":"1"}');
    for (let i = 0; i < 20; i++) {
      host.nowMs += 450;
      host.tick();
      host.request();
    }
    expect(host.calls).toHaveLength(1); // 9 s < 10 s expiry
    host.nowMs += 1000;
    host.tick();
    expect(host.calls).toHaveLength(2);
    host.tick();
    expect(host.calls).toHaveLength(2); // one call in flight
  });

  it('adds the cached headers to every request, replacing the workload value', () => {
    const host = fetched({ 'X-Workload-Token': 'jwt', 'x-env': 'dev' });
    const res = host.request({ 'x-workload-token': 'forged', 'x-other': 'kept' });
    expect(res.action).toBe(CONTINUE);
    expect(Object.fromEntries(res.headers)).toEqual({
      'x-workload-token': 'jwt',
      'x-env': 'dev',
      'x-other': 'kept',
    });
  });

  it('renews after the expiry: a changed value shows up then, not before', () => {
    const host = fetched({ 'x-a': 'old' });
    host.nowMs += 9_000;
    host.tick();
    expect(host.request().headers.get('x-a')).toBe('old');
    expect(host.calls).toHaveLength(1);
    host.nowMs += 1_000;
    host.tick();
    host.respond(200, '{"x-a":"new"}');
    expect(host.request().headers.get('x-a')).toBe('new');
  });

  it('skips and logs invalid names and values, keeping the valid ones', () => {
    const host = fetched(
      JSON.stringify({
        'bad name': 'x',
        'x-ctl': 'a\nb',
        'x-del': 'a\u007fb',
        'x-lead': ' padded',
        'x-num': 5,
        'x-obj': { a: 1 },
        host: 'evil.example',
        'content-length': '0',
        ['x-' + 'n'.repeat(300)]: 'long name',
        'x-long': 'v'.repeat(9000),
        '': 'empty',
        'x-ok': 'inner space and tab\tok',
        'x-utf8': 'caf\u00e9',
        'x-dup': 'first',
        'X-DUP': 'second',
      }),
    );
    const headers = host.request().headers;
    expect(Object.fromEntries(headers)).toEqual({
      'x-ok': 'inner space and tab\tok',
      'x-utf8': Buffer.from('café').toString('latin1'),
      'x-dup': 'first',
    });
    for (const why of [
      'name is not an RFC 9110 token',
      'x-ctl: value has a control character',
      'x-del: value has a control character',
      'x-lead: value has leading or trailing whitespace',
      'x-num: value is not a string',
      'x-obj: value is not a string',
      'reserved name',
      'name longer than 256 bytes',
      'x-long: value longer than 8192 bytes',
      'empty name',
      'x-dup: duplicate name',
    ]) {
      expect(host.logged(WARN, why), why).toBe(true);
    }
    // Values are never quoted in the log.
    expect(host.logs.some((l) => l.message.includes('evil.example'))).toBe(false);
  });

  it('keeps at most 64 headers', () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 70; i++) many[`x-h${i}`] = String(i);
    expect(fetched(many).request().headers.size).toBe(64);
  });

  it('decodes JSON escapes (\\u, surrogate pairs) into UTF-8 bytes', () => {
    const host = fetched('{"x-a":"\\u0041\\ud83d\\ude00\\/"}');
    expect(Buffer.from(host.request().headers.get('x-a')!, 'latin1').toString('utf8')).toBe('A😀/');
  });
});

describe('failures', () => {
  it.each([
    ['a 500', 500, '{"x-a":"new"}', 'status 500'],
    ['broken JSON', 200, '{"x-a": "new"', 'broken JSON'],
    ['a JSON array', 200, '["x-a","new"]', 'not an object'],
    ['a JSON string', 200, '"x-a"', 'not an object'],
    ['JSON null', 200, 'null', 'not an object'],
    ['trailing data', 200, '{"x-a":"new"} {}', 'broken JSON'],
    ['a lone surrogate', 200, '{"x-a":"\\ud800"}', 'broken JSON'],
    ['nesting 10 000 deep', 200, '['.repeat(10_000), 'nesting deeper'],
    ['an empty body', 200, '', 'broken JSON'],
    ['a 65 KiB body', 200, `{"x-a":"${'v'.repeat(65 * 1024)}"}`, 'limit 65536'],
    ['no response (timeout)', undefined, '', 'no response'],
  ])(
    'after %s: keeps the last good headers until expiry, then stops adding them',
    (_n, status, body, why) => {
      const host = fetched({ 'x-a': 'old' });
      host.nowMs += 10_000;
      host.tick();
      host.respond(status, body);
      expect(host.logged(WARN, why), why).toBe(true);
      expect(host.request().headers.get('x-a')).toBe('old');
      host.nowMs += 1_001; // past expiry (10 s) + fetch timeout (1 s)
      expect(host.request().headers.has('x-a')).toBe(false);
    },
  );

  it('retries with a doubling backoff, capped, and resets it after a success', () => {
    const host = started({ ...cfg, header_cache_expiry: '60s' });
    const gaps: number[] = [];
    let last = host.nowMs;
    for (let i = 0; i < 7; i++) {
      // Advance in 100 ms ticks until the filter calls again.
      const before = host.calls.length;
      while (host.calls.length === before) {
        host.nowMs += 100;
        host.tick();
      }
      gaps.push(host.nowMs - last);
      last = host.nowMs;
      host.respond(503, '{}');
    }
    expect(gaps.slice(1)).toEqual([1000, 2000, 4000, 8000, 16000, 30000]);
    host.nowMs += 30_000;
    host.tick();
    host.respond(200, '{"x-a":"1"}');
    expect(host.request().headers.get('x-a')).toBe('1');
    host.nowMs += 59_000;
    host.tick();
    expect(host.calls).toHaveLength(8);
  });

  it('logs and backs off when the cluster is unknown to Envoy', () => {
    const host = started({ ...cfg, header_providing_service_cluster: 'nope' });
    host.tick();
    expect(host.logged(WARN, 'cannot call cluster nope')).toBe(true);
    host.nowMs += 500;
    host.tick();
    expect(host.logs.filter((l) => l.message.includes('cannot call')).length).toBe(1);
  });
});

describe('before the first successful fetch', () => {
  it('passes requests unchanged by default', () => {
    const host = started();
    const res = host.request({ 'x-a': 'mine' });
    expect(res.action).toBe(CONTINUE);
    expect(Object.fromEntries(res.headers)).toEqual({ 'x-a': 'mine' });
    expect(host.localResponse).toBeUndefined();
  });

  it('answers a JSON 503 when fail_closed, until headers arrive', () => {
    const host = started({ ...cfg, fail_closed: true });
    const res = host.request();
    expect(res.action).toBe(PAUSE);
    expect(host.localResponse!.status).toBe(503);
    expect(host.localResponse!.headers).toEqual([['content-type', 'application/json']]);
    expect(JSON.parse(host.localResponse!.body)).toEqual({
      message: 'Service Unavailable',
      status: 503,
      details: 'HeadersUnavailable No headers from the header provider yet',
    });
    host.tick();
    host.respond(200, '{"x-a":"1"}');
    expect(host.request().action).toBe(CONTINUE);
    expect(host.localResponse).toBeUndefined();
  });
});

describe('worker threads', () => {
  it('share one cache: one thread fetches, the others use its headers', () => {
    const shared: SharedData = new Map();
    const a = started(cfg, shared);
    const b = started(cfg, shared);
    a.tick();
    b.tick(); // a holds the lease
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(0);
    a.respond(200, '{"x-a":"1"}');
    b.tick();
    expect(b.calls).toHaveLength(0);
    expect(b.request().headers.get('x-a')).toBe('1');
    // Next period: whichever thread ticks first fetches.
    b.nowMs = a.nowMs += 10_000;
    b.tick();
    a.tick();
    expect(b.calls).toHaveLength(1);
    expect(a.calls).toHaveLength(1);
  });

  it('a new VM (after a failure) serves the shared headers at once, before its first tick', () => {
    const shared: SharedData = new Map();
    const a = started(cfg, shared);
    a.tick();
    a.respond(200, '{"x-a":"1"}');
    const reloaded = started(cfg, shared);
    expect(reloaded.request().headers.get('x-a')).toBe('1');
  });

  it('traps on the test-only header (the failure policy is tested against Envoy)', () => {
    const host = started({ ...cfg, debug_trap_on_header: 'x-trap' });
    expect(() => host.request({ 'x-trap': '1' })).toThrow(WebAssembly.RuntimeError);
    expect(host.logged(CRITICAL, 'trap requested by x-trap')).toBe(true);
  });

  it("two plugins in one VM keep apart: each stream gets its own plugin's headers", () => {
    const host = started();
    expect(host.addRoot(2, { ...cfg, header_providing_service_path: '/other' })).toBe(true);
    host.tick(1);
    host.respond(200, '{"x-a":"one"}', 1);
    host.tick(2);
    expect(host.calls.at(-1)!.headers).toContainEqual([':path', '/other']);
    host.respond(200, '{"x-a":"two"}', 2);
    expect(host.request({}, 1).headers.get('x-a')).toBe('one');
    expect(host.request({}, 2).headers.get('x-a')).toBe('two');
  });
});
