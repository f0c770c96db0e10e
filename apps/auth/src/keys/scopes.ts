/** A permission: `{resource, action}`, e.g. `{resource: "keys", action: "write"}`. */
export interface Scope {
  resource: string;
  action: string;
}

/** Allowed characters in a resource or action; no `:` so `resource:action` strings round-trip. */
export const SCOPE_PART = /^(\*|[a-z0-9][a-z0-9._-]{0,62})$/;

export const KEYS_READ: Scope = { resource: 'keys', action: 'read' };
export const KEYS_WRITE: Scope = { resource: 'keys', action: 'write' };
export const ROOT_SCOPES: readonly Scope[] = [KEYS_READ, KEYS_WRITE];

export function isValidScope(s: Scope): boolean {
  return SCOPE_PART.test(s.resource) && SCOPE_PART.test(s.action);
}

/** Does a granted scope cover a required one? `*` in the granted scope matches anything. */
export function covers(granted: Scope, required: Scope): boolean {
  return (
    (granted.resource === '*' || granted.resource === required.resource) &&
    (granted.action === '*' || granted.action === required.action)
  );
}

/** True when every requested scope is covered by some granted scope. */
export function isSubset(requested: readonly Scope[], granted: readonly Scope[]): boolean {
  return requested.every((r) => granted.some((g) => covers(g, r)));
}

/** The requested scopes that the granted ones do not cover. */
export function missingScopes(requested: readonly Scope[], granted: readonly Scope[]): Scope[] {
  return requested.filter((r) => !granted.some((g) => covers(g, r)));
}

/** Deduplicated, in a stable order, with only the two fields (drops any extra properties). */
export function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  const seen = new Map<string, Scope>();
  for (const s of scopes) {
    seen.set(scopeToString(s), { resource: s.resource, action: s.action });
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

export function scopeToString(s: Scope): string {
  return `${s.resource}:${s.action}`;
}

/** Parses `resource:action`; undefined when malformed. */
export function scopeFromString(s: string): Scope | undefined {
  const i = s.indexOf(':');
  if (i < 0) return undefined;
  const scope = { resource: s.slice(0, i), action: s.slice(i + 1) };
  return isValidScope(scope) ? scope : undefined;
}
