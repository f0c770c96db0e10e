// The host functions of proxy-wasm ABI 0.2.1 that the filter calls (module "env"), as Envoy
// exports them. AssemblyScript's @external decorator is not TypeScript, so Prettier skips this file.
@external('env', 'proxy_log')
export declare function proxy_log(level: i32, ptr: usize, len: usize): i32;
@external('env', 'proxy_get_current_time_nanoseconds')
export declare function proxy_get_current_time_nanoseconds(retTime: usize): i32;
@external('env', 'proxy_set_tick_period_milliseconds')
export declare function proxy_set_tick_period_milliseconds(ms: u32): i32;
@external('env', 'proxy_get_buffer_bytes')
export declare function proxy_get_buffer_bytes(
  bufferType: i32,
  start: u32,
  maxSize: u32,
  retPtr: usize,
  retSize: usize,
): i32;
@external('env', 'proxy_get_header_map_value')
export declare function proxy_get_header_map_value(
  mapType: i32,
  keyPtr: usize,
  keyLen: usize,
  retPtr: usize,
  retSize: usize,
): i32;
@external('env', 'proxy_get_header_map_pairs')
export declare function proxy_get_header_map_pairs(mapType: i32, retPtr: usize, retSize: usize): i32;
@external('env', 'proxy_replace_header_map_value')
export declare function proxy_replace_header_map_value(
  mapType: i32,
  keyPtr: usize,
  keyLen: usize,
  valuePtr: usize,
  valueLen: usize,
): i32;
@external('env', 'proxy_http_call')
export declare function proxy_http_call(
  upstreamPtr: usize,
  upstreamLen: usize,
  headersPtr: usize,
  headersLen: usize,
  bodyPtr: usize,
  bodyLen: usize,
  trailersPtr: usize,
  trailersLen: usize,
  timeoutMs: u32,
  retToken: usize,
): i32;
@external('env', 'proxy_get_shared_data')
export declare function proxy_get_shared_data(
  keyPtr: usize,
  keyLen: usize,
  retPtr: usize,
  retSize: usize,
  retCas: usize,
): i32;
@external('env', 'proxy_set_shared_data')
export declare function proxy_set_shared_data(
  keyPtr: usize,
  keyLen: usize,
  valuePtr: usize,
  valueLen: usize,
  cas: u32,
): i32;
@external('env', 'proxy_send_local_response')
export declare function proxy_send_local_response(
  statusCode: u32,
  detailsPtr: usize,
  detailsLen: usize,
  bodyPtr: usize,
  bodyLen: usize,
  headersPtr: usize,
  headersLen: usize,
  grpcStatus: i32,
): i32;

