export const REDACTED = '[redacted]';

/**
 * What never reaches Kafka: header values (by name), query parameters and JSON body fields (by
 * name, at any depth). Names are matched case-insensitively; the lists come from config.
 */
export class Redactor {
  private readonly headers: ReadonlySet<string>;
  private readonly fields: ReadonlySet<string>;

  constructor(redactHeaders: readonly string[], redactFields: readonly string[]) {
    this.headers = new Set(redactHeaders.map((h) => h.toLowerCase()));
    this.fields = new Set(redactFields.map((f) => f.toLowerCase()));
  }

  isSecretHeader(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }

  isSecretField(name: string): boolean {
    return this.fields.has(name.toLowerCase());
  }

  headerValue(name: string, value: string): string {
    return this.isSecretHeader(name) ? REDACTED : value;
  }

  /**
   * A query string (without '?') with the values of secret parameters replaced. Parameters
   * are kept in order and otherwise byte for byte; names are compared after percent-decoding
   * so `api%5Fkey=` is caught too.
   */
  query(query: string): string {
    if (query === '') return '';
    let changed = false;
    const parts = query.split('&').map((part) => {
      const eq = part.indexOf('=');
      const rawName = eq < 0 ? part : part.slice(0, eq);
      if (!this.isSecretField(decodeName(rawName))) return part;
      changed = true;
      return `${rawName}=${REDACTED}`;
    });
    return changed ? parts.join('&') : query;
  }

  /**
   * A body with secret JSON fields replaced when it is JSON (by content type or by shape);
   * anything that is not valid JSON is kept only if no secret field name appears in it at all,
   * otherwise it is replaced whole: a cut or odd body is never a way around redaction.
   */
  body(body: Buffer, contentType: string | undefined): Buffer {
    if (body.length === 0) return body;
    const text = body.toString('utf8');
    const looksJson = (contentType ?? '').toLowerCase().includes('json') || /^\s*[[{]/.test(text);
    if (looksJson) {
      try {
        const parsed = JSON.parse(text) as unknown;
        return Buffer.from(JSON.stringify(this.json(parsed)), 'utf8');
      } catch {
        // fall through: not (complete) JSON
      }
    }
    if (/x-www-form-urlencoded/i.test(contentType ?? '')) {
      return Buffer.from(this.query(text), 'utf8');
    }
    const lower = text.toLowerCase();
    for (const f of this.fields) {
      if (lower.includes(f)) return Buffer.from(REDACTED, 'utf8');
    }
    return body;
  }

  private json(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.json(x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        out[k] = this.isSecretField(k) ? REDACTED : this.json(x);
      }
      return out;
    }
    return v;
  }
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}
