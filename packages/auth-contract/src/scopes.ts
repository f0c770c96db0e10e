/**
 * A permission: `{resource, action}`, e.g. `{resource: "keys", action: "write"}`; as a string
 * `resource:action` (JWT `scopes` claim, route metadata, the `x-scopes` header).
 */
export interface Scope {
  readonly resource: string;
  readonly action: string;
}

/**
 * One resource or action: `*`, or lower-case letters/digits then `._-`, at most 63 chars. No
 * `:` (so `resource:action` round-trips), no upper case (so matching is plain equality: `Keys`
 * is not a scope, never "the same as" `keys`), never empty.
 */
export const SCOPE_PART = /^(\*|[a-z0-9][a-z0-9._-]{0,62})$/;

/** A whole `resource:action` string. */
export const SCOPE_STRING = /^(\*|[a-z0-9][a-z0-9._-]{0,62}):(\*|[a-z0-9][a-z0-9._-]{0,62})$/;

export const KEYS_READ: Scope = Object.freeze({ resource: 'keys', action: 'read' });
export const KEYS_WRITE: Scope = Object.freeze({ resource: 'keys', action: 'write' });
/** What a new tenant's root key holds. */
export const ROOT_SCOPES: readonly Scope[] = Object.freeze([KEYS_READ, KEYS_WRITE]);

export function isValidScope(s: Scope): boolean {
  return SCOPE_PART.test(s.resource) && SCOPE_PART.test(s.action);
}

/**
 * Does a granted scope cover a required one? `*` in the GRANTED resource or action matches
 * anything; `*` in a required scope is only covered by `*` (a grant of `keys:read` does not
 * cover a requirement of `keys:*`). Case-sensitive. Fails closed: a malformed scope on either
 * side (empty, upper case, `:` inside, too long) covers and is covered by nothing.
 */
export function covers(granted: Scope, required: Scope): boolean {
  if (!isValidScope(granted) || !isValidScope(required)) return false;
  return (
    (granted.resource === '*' || granted.resource === required.resource) &&
    (granted.action === '*' || granted.action === required.action)
  );
}

/** The required scopes that no granted scope covers (empty = all covered). */
export function missingScopes(required: readonly Scope[], granted: readonly Scope[]): Scope[] {
  return required.filter((r) => !granted.some((g) => covers(g, r)));
}

/** True when every requested scope is covered by some granted scope. */
export function isSubset(requested: readonly Scope[], granted: readonly Scope[]): boolean {
  return missingScopes(requested, granted).length === 0;
}

/** Deduplicated, in a stable order, with only the two fields (drops any extra properties). */
export function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  const seen = new Map<string, Scope>();
  for (const s of scopes) seen.set(scopeToString(s), { resource: s.resource, action: s.action });
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

export function scopeToString(s: Scope): string {
  return `${s.resource}:${s.action}`;
}

/** Parses `resource:action`; undefined when malformed. */
export function scopeFromString(s: string): Scope | undefined {
  if (!SCOPE_STRING.test(s)) return undefined;
  const i = s.indexOf(':');
  return { resource: s.slice(0, i), action: s.slice(i + 1) };
}

/** `a:b,c:d` (the `x-scopes` header form). */
export function formatScopes(scopes: readonly Scope[]): string {
  return scopes.map(scopeToString).join(',');
}
