// A strict, bounded JSON parser (RFC 8259) over raw bytes. Strings come back as unescaped UTF-8
// bytes so header values never pass through UTF-16. Depth and size are bounded by the caller so
// nothing a remote service returns can exhaust the stack.

export const enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

export class JsonMember {
  constructor(
    public key: ArrayBuffer,
    public value: JsonValue,
  ) {}
}

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  /** String: unescaped UTF-8; Number: its text. */
  bytes: ArrayBuffer = new ArrayBuffer(0);
  members: Array<JsonMember> = [];
  items: Array<JsonValue> = [];
}

export class JsonResult {
  constructor(
    public value: JsonValue | null,
    public error: string,
  ) {}
}

class Parser {
  pos: i32 = 0;
  error: string = '';
  constructor(
    public base: usize,
    public len: i32,
    public maxDepth: i32,
  ) {}

  at(i: i32): u8 {
    return load<u8>(this.base + <usize>i);
  }

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message + ' at byte ' + this.pos.toString();
    return null;
  }

  skipWs(): void {
    while (this.pos < this.len) {
      const c = this.at(this.pos);
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) this.pos++;
      else break;
    }
  }

  literal(word: string): bool {
    const n = word.length;
    if (this.pos + n > this.len) return false;
    for (let i = 0; i < n; i++) {
      if (<u32>this.at(this.pos + i) != <u32>word.charCodeAt(i)) return false;
    }
    this.pos += n;
    return true;
  }

  value(depth: i32): JsonValue | null {
    if (depth > this.maxDepth) return this.fail('nesting deeper than ' + this.maxDepth.toString());
    this.skipWs();
    if (this.pos >= this.len) return this.fail('unexpected end');
    const c = this.at(this.pos);
    const v = new JsonValue();
    if (c == 0x7b /* { */) return this.object(depth);
    if (c == 0x5b /* [ */) return this.array(depth);
    if (c == 0x22 /* " */) {
      const s = this.string();
      if (s === null) return null;
      v.kind = JsonKind.String;
      v.bytes = s;
      return v;
    }
    if (c == 0x74 /* t */ && this.literal('true')) {
      v.kind = JsonKind.Bool;
      v.bool = true;
      return v;
    }
    if (c == 0x66 /* f */ && this.literal('false')) {
      v.kind = JsonKind.Bool;
      return v;
    }
    if (c == 0x6e /* n */ && this.literal('null')) return v;
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail('unexpected character');
  }

  digits(): i32 {
    let n = 0;
    while (this.pos < this.len) {
      const c = this.at(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
      n++;
    }
    return n;
  }

  number(): JsonValue | null {
    const start = this.pos;
    if (this.at(this.pos) == 0x2d) this.pos++;
    if (this.pos >= this.len) return this.fail('bad number');
    if (this.at(this.pos) == 0x30) {
      this.pos++;
    } else if (this.digits() == 0) {
      return this.fail('bad number');
    }
    if (this.pos < this.len && this.at(this.pos) == 0x2e) {
      this.pos++;
      if (this.digits() == 0) return this.fail('bad number');
    }
    if (this.pos < this.len && (this.at(this.pos) | 0x20) == 0x65) {
      this.pos++;
      if (this.pos < this.len && (this.at(this.pos) == 0x2b || this.at(this.pos) == 0x2d))
        this.pos++;
      if (this.digits() == 0) return this.fail('bad number');
    }
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.bytes = copyBytes(this.base + <usize>start, this.pos - start);
    return v;
  }

  hex4(): i32 {
    if (this.pos + 4 > this.len) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>this.at(this.pos + i);
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else return -1;
      v = (v << 4) | d;
    }
    this.pos += 4;
    return v;
  }

  /** At an opening quote; returns the unescaped bytes or null (error set). */
  string(): ArrayBuffer | null {
    this.pos++; // opening quote
    // First pass: find the closing quote; the decoded text is never longer than the raw span.
    let end = this.pos;
    while (true) {
      if (end >= this.len) {
        this.fail('unterminated string');
        return null;
      }
      const c = this.at(end);
      if (c == 0x22) break;
      if (c == 0x5c) end += 2;
      else end++;
    }
    const out = new ArrayBuffer(end - this.pos);
    const o = changetype<usize>(out);
    let n = 0;
    while (this.pos < end) {
      const c = this.at(this.pos);
      if (c < 0x20) {
        this.fail('control character in string');
        return null;
      }
      if (c != 0x5c) {
        store<u8>(o + <usize>n, c);
        n++;
        this.pos++;
        continue;
      }
      this.pos++;
      const e = this.at(this.pos);
      this.pos++;
      let b: i32 = -1;
      if (e == 0x22) b = 0x22;
      else if (e == 0x5c) b = 0x5c;
      else if (e == 0x2f) b = 0x2f;
      else if (e == 0x62) b = 0x08;
      else if (e == 0x66) b = 0x0c;
      else if (e == 0x6e) b = 0x0a;
      else if (e == 0x72) b = 0x0d;
      else if (e == 0x74) b = 0x09;
      if (b >= 0) {
        store<u8>(o + <usize>n, <u8>b);
        n++;
        continue;
      }
      if (e != 0x75) {
        this.fail('bad escape');
        return null;
      }
      let cp = this.hex4();
      if (cp < 0) {
        this.fail('bad \\u escape');
        return null;
      }
      if (cp >= 0xd800 && cp <= 0xdbff) {
        // A high surrogate must be followed by an escaped low surrogate.
        if (this.pos + 6 > end || this.at(this.pos) != 0x5c || this.at(this.pos + 1) != 0x75) {
          this.fail('lone surrogate');
          return null;
        }
        this.pos += 2;
        const lo = this.hex4();
        if (lo < 0xdc00 || lo > 0xdfff) {
          this.fail('lone surrogate');
          return null;
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        this.fail('lone surrogate');
        return null;
      }
      n += encodeUtf8(o + <usize>n, cp);
    }
    this.pos = end + 1; // closing quote
    return out.slice(0, n);
  }

  array(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    this.skipWs();
    if (this.pos < this.len && this.at(this.pos) == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.skipWs();
      if (this.pos >= this.len) return this.fail('unterminated array');
      const c = this.at(this.pos++);
      if (c == 0x5d) return v;
      if (c != 0x2c) return this.fail('expected , or ]');
    }
  }

  object(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    this.skipWs();
    if (this.pos < this.len && this.at(this.pos) == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.skipWs();
      if (this.pos >= this.len || this.at(this.pos) != 0x22) return this.fail('expected a key');
      const key = this.string();
      if (key === null) return null;
      this.skipWs();
      if (this.pos >= this.len || this.at(this.pos) != 0x3a) return this.fail('expected :');
      this.pos++;
      const value = this.value(depth + 1);
      if (value === null) return null;
      v.members.push(new JsonMember(key, value));
      this.skipWs();
      if (this.pos >= this.len) return this.fail('unterminated object');
      const c = this.at(this.pos++);
      if (c == 0x7d) return v;
      if (c != 0x2c) return this.fail('expected , or }');
    }
  }
}

function copyBytes(ptr: usize, len: i32): ArrayBuffer {
  const out = new ArrayBuffer(len);
  memory.copy(changetype<usize>(out), ptr, <usize>len);
  return out;
}

function encodeUtf8(o: usize, cp: i32): i32 {
  if (cp < 0x80) {
    store<u8>(o, <u8>cp);
    return 1;
  }
  if (cp < 0x800) {
    store<u8>(o, <u8>(0xc0 | (cp >> 6)));
    store<u8>(o + 1, <u8>(0x80 | (cp & 0x3f)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(o, <u8>(0xe0 | (cp >> 12)));
    store<u8>(o + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(o + 2, <u8>(0x80 | (cp & 0x3f)));
    return 3;
  }
  store<u8>(o, <u8>(0xf0 | (cp >> 18)));
  store<u8>(o + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(o + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(o + 3, <u8>(0x80 | (cp & 0x3f)));
  return 4;
}

/** Parses a whole document; trailing non-whitespace is an error. */
export function parseJson(buf: ArrayBuffer, maxDepth: i32): JsonResult {
  const p = new Parser(changetype<usize>(buf), buf.byteLength, maxDepth);
  const v = p.value(0);
  if (v === null) return new JsonResult(null, p.error);
  p.skipWs();
  if (p.pos != p.len) return new JsonResult(null, 'trailing data at byte ' + p.pos.toString());
  return new JsonResult(v, '');
}
