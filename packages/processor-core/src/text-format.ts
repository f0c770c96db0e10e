// Envoy sends message-typed attributes (e.g. `xds.route_metadata`) to ext_proc as protobuf
// text format. This reads the small subset a `config.core.v3.Metadata` uses (maps of Structs)
// into plain objects, so `ctx.metadata(ns)` can serve per-route metadata.

type Node = Map<string, (Node | string | number | boolean)[]>;

function tokenize(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') i++;
    else if (c === '{' || c === '}' || c === ':' || c === '<' || c === '>') {
      out.push(c === '<' ? '{' : c === '>' ? '}' : c);
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let str = '';
      while (j < s.length && s[j] !== c) {
        if (s[j] === '\\' && j + 1 < s.length) {
          const n = s[j + 1]!;
          str += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          j += 2;
        } else str += s[j++];
      }
      out.push(`"${str}`); // leading quote marks a string token
      i = j + 1;
    } else {
      let j = i;
      while (j < s.length && !' \n\t\r{}:<>"\''.includes(s[j]!)) j++;
      out.push(s.slice(i, j));
      i = j;
    }
  }
  return out;
}

function parseMessage(t: string[], pos: { i: number }): Node {
  const node: Node = new Map();
  while (pos.i < t.length && t[pos.i] !== '}') {
    const name = t[pos.i++]!;
    if (t[pos.i] === ':') pos.i++;
    let value: Node | string | number | boolean;
    if (t[pos.i] === '{') {
      pos.i++;
      value = parseMessage(t, pos);
      pos.i++; // '}'
    } else {
      const tok = t[pos.i++] ?? '';
      if (tok.startsWith('"')) value = tok.slice(1);
      else if (tok === 'true' || tok === 'false') value = tok === 'true';
      else if (tok !== '' && !Number.isNaN(Number(tok))) value = Number(tok);
      else value = tok; // enum names (NULL_VALUE)
    }
    const list = node.get(name);
    if (list === undefined) node.set(name, [value]);
    else list.push(value);
  }
  return node;
}

const first = (n: Node, k: string): Node | string | number | boolean | undefined => n.get(k)?.[0];

function toValue(v: Node): unknown {
  if (v.has('string_value')) return first(v, 'string_value');
  if (v.has('number_value')) return first(v, 'number_value');
  if (v.has('bool_value')) return first(v, 'bool_value');
  if (v.has('null_value')) return null;
  const sv = first(v, 'struct_value');
  if (sv instanceof Map) return toStruct(sv);
  const lv = first(v, 'list_value');
  if (lv instanceof Map)
    return (lv.get('values') ?? []).map((x) => (x instanceof Map ? toValue(x) : x));
  return null;
}

function toStruct(s: Node): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of s.get('fields') ?? []) {
    if (!(e instanceof Map)) continue;
    const k = first(e, 'key');
    const v = first(e, 'value');
    if (typeof k === 'string') out[k] = v instanceof Map ? toValue(v) : null;
  }
  return out;
}

/** Parses a `config.core.v3.Metadata` in text format into `{ namespace: {...} }` (filter_metadata only). */
export function parseMetadataText(text: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  if (text.trim() === '') return out;
  const root = parseMessage(tokenize(text), { i: 0 });
  for (const e of root.get('filter_metadata') ?? []) {
    if (!(e instanceof Map)) continue;
    const k = first(e, 'key');
    const v = first(e, 'value');
    if (typeof k === 'string' && v instanceof Map) out[k] = toStruct(v);
  }
  return out;
}
