// A proxy-wasm 0.2.1 host in JavaScript for unit tests: it instantiates the built module and
// implements every import the filter uses, with a controllable clock, header maps, HTTP calls
// and shared data. Two FakeHosts given the same SharedData act as two Envoy worker threads.
import { readFileSync } from 'node:fs';
import { headerFilterWasmPath } from '../index';

export type SharedData = Map<string, { value: Buffer; cas: number }>;

export interface HttpCall {
  token: number;
  cluster: string;
  headers: [string, string][];
  timeoutMs: number;
}

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  proxy_abi_version_0_2_1(): void;
  proxy_on_memory_allocate(size: number): number;
  proxy_on_context_create(id: number, parent: number): void;
  proxy_on_vm_start(id: number, size: number): number;
  proxy_on_configure(id: number, size: number): number;
  proxy_on_tick(id: number): void;
  proxy_on_http_call_response(
    id: number,
    token: number,
    headers: number,
    body: number,
    trailers: number,
  ): void;
  proxy_on_request_headers(id: number, headers: number, eos: number): number;
  proxy_on_delete(id: number): void;
}

const OK = 0;
const NOT_FOUND = 1;
const BAD_ARGUMENT = 2;
const CAS_MISMATCH = 8;

let sharedCas = 1;

export class FakeHost {
  readonly logs: { level: number; message: string }[] = [];
  nowMs = 1_700_000_000_000;
  tickPeriodMs = 0;
  pluginConfig = Buffer.alloc(0);
  requestHeaders = new Map<string, string>();
  readonly calls: HttpCall[] = [];
  /** Clusters the host knows (others fail the dispatch with BadArgument). */
  clusters = new Set(['sidecar', 'header_provider']);
  localResponse: { status: number; body: string; headers: [string, string][] } | undefined;
  private callResponse: { headers: Map<string, string>; body: Buffer } | undefined;
  private nextToken = 1;
  readonly exports: Exports;

  constructor(readonly shared: SharedData = new Map()) {
    const module = new WebAssembly.Module(readFileSync(headerFilterWasmPath()));
    const imports = WebAssembly.Module.imports(module);
    const env = this.env();
    for (const i of imports) {
      if (i.module !== 'env' || !(i.name in env))
        throw new Error(`unexpected import ${i.module}.${i.name}`);
    }
    const instance = new WebAssembly.Instance(module, { env });
    this.exports = instance.exports as unknown as Exports;
    this.exports._initialize();
  }

  get importNames(): string[] {
    return WebAssembly.Module.imports(
      new WebAssembly.Module(readFileSync(headerFilterWasmPath())),
    ).map((i) => `${i.module}.${i.name}`);
  }

  private get mem(): Buffer {
    return Buffer.from(this.exports.memory.buffer);
  }

  private read(ptr: number, len: number): Buffer {
    return Buffer.from(this.mem.subarray(ptr, ptr + len));
  }

  private readString(ptr: number, len: number): string {
    return this.read(ptr, len).toString('utf8');
  }

  /** Copies bytes into module memory (allocated by the module) and writes pointer and size. */
  private give(bytes: Buffer, retPtr: number, retSize: number): number {
    const ptr = this.exports.proxy_on_memory_allocate(bytes.length);
    this.mem.set(bytes, ptr);
    this.mem.writeUInt32LE(ptr, retPtr);
    this.mem.writeUInt32LE(bytes.length, retSize);
    return OK;
  }

  private parsePairs(ptr: number, len: number): [string, string][] {
    const buf = this.read(ptr, len);
    const n = buf.readUInt32LE(0);
    const sizes: number[] = [];
    for (let i = 0; i < n * 2; i++) sizes.push(buf.readUInt32LE(4 + i * 4));
    let at = 4 + n * 8;
    const pairs: [string, string][] = [];
    for (let i = 0; i < n; i++) {
      const k = buf.subarray(at, at + sizes[2 * i]!).toString('utf8');
      at += sizes[2 * i]! + 1;
      const v = buf.subarray(at, at + sizes[2 * i + 1]!).toString('utf8');
      at += sizes[2 * i + 1]! + 1;
      pairs.push([k, v]);
    }
    return pairs;
  }

  private env(): Record<string, (...args: number[]) => number> {
    return {
      proxy_log: (level, ptr, len) => {
        this.logs.push({ level, message: this.readString(ptr, len) });
        return OK;
      },
      proxy_get_current_time_nanoseconds: (ret) => {
        this.mem.writeBigUInt64LE(BigInt(this.nowMs) * 1_000_000n, ret);
        return OK;
      },
      proxy_set_tick_period_milliseconds: (ms) => {
        this.tickPeriodMs = ms;
        return OK;
      },
      proxy_get_buffer_bytes: (type, start, max, retPtr, retSize) => {
        const buf =
          type === 7 ? this.pluginConfig : type === 4 ? this.callResponse?.body : undefined;
        if (buf === undefined) return NOT_FOUND;
        return this.give(buf.subarray(start, start + max), retPtr, retSize);
      },
      proxy_get_header_map_value: (type, kPtr, kLen, retPtr, retSize) => {
        const key = this.readString(kPtr, kLen);
        const map =
          type === 0 ? this.requestHeaders : type === 6 ? this.callResponse?.headers : undefined;
        const v = map?.get(key);
        if (v === undefined) return NOT_FOUND;
        return this.give(Buffer.from(v, 'latin1'), retPtr, retSize);
      },
      proxy_replace_header_map_value: (type, kPtr, kLen, vPtr, vLen) => {
        if (type !== 0) return BAD_ARGUMENT;
        this.requestHeaders.set(
          this.readString(kPtr, kLen),
          this.read(vPtr, vLen).toString('latin1'),
        );
        return OK;
      },
      proxy_http_call: (uPtr, uLen, hPtr, hLen, _b, _bl, _t, _tl, timeout, retToken) => {
        const cluster = this.readString(uPtr, uLen);
        if (!this.clusters.has(cluster)) return BAD_ARGUMENT;
        const token = this.nextToken++;
        this.calls.push({
          token,
          cluster,
          headers: this.parsePairs(hPtr, hLen),
          timeoutMs: timeout,
        });
        this.mem.writeUInt32LE(token, retToken);
        return OK;
      },
      proxy_get_shared_data: (kPtr, kLen, retPtr, retSize, retCas) => {
        const entry = this.shared.get(this.readString(kPtr, kLen));
        if (entry === undefined) return NOT_FOUND;
        this.give(entry.value, retPtr, retSize);
        this.mem.writeUInt32LE(entry.cas, retCas);
        return OK;
      },
      proxy_set_shared_data: (kPtr, kLen, vPtr, vLen, cas) => {
        const key = this.readString(kPtr, kLen);
        const entry = this.shared.get(key);
        if (cas !== 0 && entry !== undefined && entry.cas !== cas) return CAS_MISMATCH;
        this.shared.set(key, { value: this.read(vPtr, vLen), cas: sharedCas++ });
        return OK;
      },
      proxy_send_local_response: (status, _dPtr, _dLen, bPtr, bLen, hPtr, hLen) => {
        this.localResponse = {
          status,
          body: this.readString(bPtr, bLen),
          headers: this.parsePairs(hPtr, hLen),
        };
        return OK;
      },
    };
  }

  // ---- driving the module like Envoy does ----

  /** Root context 1: VM start and configure; returns what proxy_on_configure answered. */
  start(config: object | string | undefined): boolean {
    this.pluginConfig = Buffer.from(
      config === undefined ? '' : typeof config === 'string' ? config : JSON.stringify(config),
    );
    this.exports.proxy_on_context_create(1, 0);
    if (this.exports.proxy_on_vm_start(1, 0) !== 1) return false;
    return this.exports.proxy_on_configure(1, this.pluginConfig.length) === 1;
  }

  /** Another plugin (root context `id`) in the same VM. */
  addRoot(id: number, config: object): boolean {
    this.pluginConfig = Buffer.from(JSON.stringify(config));
    this.exports.proxy_on_context_create(id, 0);
    return this.exports.proxy_on_configure(id, this.pluginConfig.length) === 1;
  }

  tick(root = 1): void {
    this.exports.proxy_on_tick(root);
  }

  /** Answers the last HTTP call (status undefined: no response, as on a timeout). */
  respond(status: number | undefined, body: string | Buffer = '', root = 1): void {
    const call = this.calls.at(-1);
    if (call === undefined) throw new Error('no call to answer');
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    this.callResponse =
      status === undefined
        ? undefined
        : { headers: new Map([[':status', String(status)]]), body: bytes };
    this.exports.proxy_on_http_call_response(
      root,
      call.token,
      status === undefined ? 0 : 1,
      status === undefined ? 0 : bytes.length,
      0,
    );
    this.callResponse = undefined;
  }

  private nextStream = 100;

  /** One request through the filter: returns the action and the headers after it. */
  request(
    headers: Record<string, string> = {},
    root = 1,
  ): { action: number; headers: Map<string, string> } {
    const id = this.nextStream++;
    this.requestHeaders = new Map(Object.entries(headers));
    this.localResponse = undefined;
    this.exports.proxy_on_context_create(id, root);
    const action = this.exports.proxy_on_request_headers(id, this.requestHeaders.size, 1);
    this.exports.proxy_on_delete(id);
    return { action, headers: this.requestHeaders };
  }

  logged(level: number, text: string): boolean {
    return this.logs.some((l) => l.level === level && l.message.includes(text));
  }
}
