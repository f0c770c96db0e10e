// The proxy-wasm ABI 0.2.1 as this filter uses it: host imports, constants and thin helpers
// that move bytes across the boundary. Nothing here knows about headers or providers.

import {
  proxy_log,
  proxy_get_current_time_nanoseconds,
  proxy_set_tick_period_milliseconds,
  proxy_get_buffer_bytes,
  proxy_get_header_map_value,
  proxy_replace_header_map_value,
  proxy_http_call,
  proxy_get_shared_data,
  proxy_set_shared_data,
  proxy_send_local_response,
} from './imports';

// ---- constants ----
export namespace Status {
  export const Ok: i32 = 0;
  export const NotFound: i32 = 1;
  export const BadArgument: i32 = 2;
  export const CasMismatch: i32 = 8;
}
export namespace LogLevel {
  export const Trace: i32 = 0;
  export const Debug: i32 = 1;
  export const Info: i32 = 2;
  export const Warn: i32 = 3;
  export const Error: i32 = 4;
  export const Critical: i32 = 5;
}
export namespace BufferType {
  export const HttpCallResponseBody: i32 = 4;
  export const PluginConfiguration: i32 = 7;
}
export namespace MapType {
  export const HttpRequestHeaders: i32 = 0;
  export const HttpCallResponseHeaders: i32 = 6;
}
export namespace Action {
  export const Continue: i32 = 0;
  export const Pause: i32 = 1;
}

// Return slots the host writes into (pointer, size, cas / token, time).
const RET_PTR: usize = memory.data(8);
const RET_SIZE: usize = memory.data(8);
const RET_U32: usize = memory.data(8);
const RET_TIME: usize = memory.data(8);

/** Copies `size` bytes the host allocated (through proxy_on_memory_allocate) and frees them. */
function takeHostBytes(): ArrayBuffer {
  const ptr = load<usize>(RET_PTR);
  const size = <i32>load<u32>(RET_SIZE);
  const out = new ArrayBuffer(size);
  if (size > 0) memory.copy(changetype<usize>(out), ptr, <usize>size);
  if (ptr != 0) heap.free(ptr);
  return out;
}

export function ptrOf(buf: ArrayBuffer): usize {
  return changetype<usize>(buf);
}

export function log(level: i32, message: string): void {
  const bytes = String.UTF8.encode(message);
  proxy_log(level, ptrOf(bytes), <usize>bytes.byteLength);
}

/** Wall-clock time in milliseconds. */
export function nowMs(): i64 {
  proxy_get_current_time_nanoseconds(RET_TIME);
  return <i64>(load<u64>(RET_TIME) / 1_000_000);
}

export function setTickPeriod(ms: u32): void {
  proxy_set_tick_period_milliseconds(ms);
}

/** A whole host buffer (plugin config, http call response body); empty when absent. */
export function getBuffer(bufferType: i32, size: u32): ArrayBuffer {
  store<usize>(RET_PTR, 0);
  store<u32>(RET_SIZE, 0);
  if (size == 0) return new ArrayBuffer(0);
  const status = proxy_get_buffer_bytes(bufferType, 0, size, RET_PTR, RET_SIZE);
  if (status != Status.Ok) return new ArrayBuffer(0);
  return takeHostBytes();
}

/** One header of a map, or null when absent. */
export function getHeader(mapType: i32, name: string): ArrayBuffer | null {
  const key = String.UTF8.encode(name);
  store<usize>(RET_PTR, 0);
  store<u32>(RET_SIZE, 0);
  const status = proxy_get_header_map_value(
    mapType,
    ptrOf(key),
    <usize>key.byteLength,
    RET_PTR,
    RET_SIZE,
  );
  if (status != Status.Ok) return null;
  return takeHostBytes();
}

/** Sets (replacing any existing value) one header; name and value are raw bytes. */
export function replaceHeader(mapType: i32, name: ArrayBuffer, value: ArrayBuffer): i32 {
  return proxy_replace_header_map_value(
    mapType,
    ptrOf(name),
    <usize>name.byteLength,
    ptrOf(value),
    <usize>value.byteLength,
  );
}

/** True when the map has a header of this (lower-case) name. */
export function hasHeader(mapType: i32, name: string): bool {
  return getHeader(mapType, name) !== null;
}

/**
 * Serializes header pairs the ABI way: u32 count, then (u32 name length, u32 value length) per
 * pair, then each name and value followed by a NUL byte.
 */
export function serializePairs(pairs: Array<ArrayBuffer>): ArrayBuffer {
  const n = pairs.length >> 1;
  let size = 4 + n * 8;
  for (let i = 0; i < pairs.length; i++) size += pairs[i].byteLength + 1;
  const out = new ArrayBuffer(size);
  const base = ptrOf(out);
  store<u32>(base, <u32>n);
  let sizes = base + 4;
  let data = base + 4 + <usize>n * 8;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    store<u32>(sizes, <u32>p.byteLength);
    sizes += 4;
    memory.copy(data, ptrOf(p), <usize>p.byteLength);
    data += <usize>p.byteLength;
    store<u8>(data, 0);
    data += 1;
  }
  return out;
}

/** proxy_http_call; returns the call token, or -1 (with the host status in `lastStatus`). */
export let lastStatus: i32 = 0;
export function httpCall(cluster: string, headerPairs: Array<ArrayBuffer>, timeoutMs: u32): i64 {
  const upstream = String.UTF8.encode(cluster);
  const headers = serializePairs(headerPairs);
  store<u32>(RET_U32, 0);
  const status = proxy_http_call(
    ptrOf(upstream),
    <usize>upstream.byteLength,
    ptrOf(headers),
    <usize>headers.byteLength,
    0,
    0,
    0,
    0,
    timeoutMs,
    RET_U32,
  );
  lastStatus = status;
  if (status != Status.Ok) return -1;
  return <i64>load<u32>(RET_U32);
}

export class SharedValue {
  constructor(
    public value: ArrayBuffer | null,
    public cas: u32,
  ) {}
}

export function getSharedData(key: ArrayBuffer): SharedValue {
  store<usize>(RET_PTR, 0);
  store<u32>(RET_SIZE, 0);
  store<u32>(RET_U32, 0);
  const status = proxy_get_shared_data(
    ptrOf(key),
    <usize>key.byteLength,
    RET_PTR,
    RET_SIZE,
    RET_U32,
  );
  if (status != Status.Ok) return new SharedValue(null, 0);
  const cas = load<u32>(RET_U32);
  return new SharedValue(takeHostBytes(), cas);
}

/** Stores a value if nobody changed it since `cas` (0: unconditionally); returns the status. */
export function setSharedData(key: ArrayBuffer, value: ArrayBuffer, cas: u32): i32 {
  return proxy_set_shared_data(
    ptrOf(key),
    <usize>key.byteLength,
    ptrOf(value),
    <usize>value.byteLength,
    cas,
  );
}

export function sendLocalResponse(
  status: u32,
  details: string,
  body: string,
  headerPairs: Array<ArrayBuffer>,
): i32 {
  const d = String.UTF8.encode(details);
  const b = String.UTF8.encode(body);
  const h = serializePairs(headerPairs);
  return proxy_send_local_response(
    status,
    ptrOf(d),
    <usize>d.byteLength,
    ptrOf(b),
    <usize>b.byteLength,
    ptrOf(h),
    <usize>h.byteLength,
    -1,
  );
}
