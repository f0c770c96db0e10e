import type { envoyCore } from '@edge/protos';

type HeaderValue = envoyCore.HeaderValue;

/** Decodes one Envoy HeaderValue: `raw_value` (Envoy >= 1.34 sends it) wins over `value`. */
export function headerValueString(h: HeaderValue): string {
  const raw = h.rawValue;
  return raw !== undefined && raw.length > 0 ? raw.toString('utf8') : h.value;
}

/**
 * A read view of a header map as Envoy sent it. Names are matched case-insensitively
 * (Envoy sends lower-case names); repeated headers are kept in order. Decoding is lazy:
 * nothing is decoded until the first read; then the names, and each value only when it is
 * read (at most once).
 *
 * The view also reflects the mutations a processor made through the phase helpers
 * (setHeader/appendHeader/...), so a later processor in a `compose()` chain sees them.
 */
export class Headers implements Iterable<[string, string]> {
  private source: readonly HeaderValue[] | undefined;
  private names: string[] = [];
  /** Decoded values; undefined = not decoded yet (then `raw[i]` holds it). */
  private values: (string | undefined)[] = [];
  private raw: (HeaderValue | undefined)[] = [];

  constructor(source?: readonly HeaderValue[]) {
    this.source = source;
  }

  /** Builds a view from plain pairs (used by the harness and in tests). */
  static fromRecord(record: Record<string, string | readonly string[]>): Headers {
    const h = new Headers();
    for (const [k, v] of Object.entries(record)) {
      if (typeof v === 'string') h.appendInternal(k, v);
      else for (const one of v) h.appendInternal(k, one);
    }
    return h;
  }

  private decode(): void {
    const src = this.source;
    if (src === undefined) return;
    this.source = undefined;
    const n = src.length;
    const names = new Array<string>(n);
    for (let i = 0; i < n; i++) names[i] = src[i]!.key.toLowerCase();
    this.names = names;
    this.values = new Array<string | undefined>(n);
    this.raw = src.slice();
  }

  private value(i: number): string {
    let v = this.values[i];
    if (v === undefined) {
      v = headerValueString(this.raw[i]!);
      this.values[i] = v;
      this.raw[i] = undefined;
    }
    return v;
  }

  /** The first value of `name`, or undefined. Use `getAll` for repeated headers. */
  get(name: string): string | undefined {
    this.decode();
    const key = name.toLowerCase();
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === key) return this.value(i);
    return undefined;
  }

  /** Every value of `name`, in the order Envoy sent them (empty array when absent). */
  getAll(name: string): string[] {
    this.decode();
    const key = name.toLowerCase();
    const out: string[] = [];
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === key) out.push(this.value(i));
    return out;
  }

  has(name: string): boolean {
    this.decode();
    return this.names.includes(name.toLowerCase());
  }

  get size(): number {
    this.decode();
    return this.names.length;
  }

  *[Symbol.iterator](): Iterator<[string, string]> {
    this.decode();
    for (let i = 0; i < this.names.length; i++) yield [this.names[i]!, this.value(i)];
  }

  /** A plain object; repeated headers are joined with ", " (except set-cookie, kept as array). */
  toObject(): Record<string, string | string[]> {
    this.decode();
    const out: Record<string, string | string[]> = {};
    for (let i = 0; i < this.names.length; i++) {
      const k = this.names[i]!;
      const v = this.value(i);
      const prev = out[k];
      if (prev === undefined) out[k] = v;
      else if (k === 'set-cookie') out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
      else out[k] = `${typeof prev === 'string' ? prev : prev.join(', ')}, ${v}`;
    }
    return out;
  }

  // ---- mutation mirrors (called by the phase helpers, not by processors) ----

  /** @internal */
  appendInternal(name: string, value: string): void {
    this.decode();
    this.names.push(name.toLowerCase());
    this.values.push(value);
    this.raw.push(undefined);
  }

  /** @internal */
  removeInternal(name: string): void {
    this.decode();
    const key = name.toLowerCase();
    for (let i = this.names.length - 1; i >= 0; i--) {
      if (this.names[i] === key) {
        this.names.splice(i, 1);
        this.values.splice(i, 1);
        this.raw.splice(i, 1);
      }
    }
  }

  /** @internal */
  setInternal(name: string, value: string): void {
    this.removeInternal(name);
    this.appendInternal(name, value);
  }
}
