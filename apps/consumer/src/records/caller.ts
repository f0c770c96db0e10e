import { ForbiddenException, UnauthorizedException } from '@nestjs/common';

/**
 * The caller as the front proxy's authn processor describes it: `x-tenant-id` and `x-scopes`
 * are removed from client requests and set from the verified principal, so these headers are
 * trusted only behind the front proxy (this service listens on loopback only).
 */
export function callerTenant(headers: Record<string, string | string[] | undefined>): string {
  const t = headers['x-tenant-id'];
  if (typeof t !== 'string' || t === '') {
    throw new UnauthorizedException({
      message: 'Unauthenticated',
      status: 401,
      details: 'NoIdentity call this API through the front proxy with credentials',
    });
  }
  return t;
}

/** `resource:action` grants; `*` matches anything (the rule apps/auth and authn use). */
export function hasScope(grants: string, resource: string, action: string): boolean {
  return grants
    .split(',')
    .map((g) => g.trim().split(':'))
    .some(([r, a]) => (r === '*' || r === resource) && (a === '*' || a === action));
}

export function requireAdmin(headers: Record<string, string | string[] | undefined>): void {
  callerTenant(headers);
  const s = headers['x-scopes'];
  if (typeof s !== 'string' || !hasScope(s, 'admin', 'read')) {
    throw new ForbiddenException({
      message: 'Forbidden',
      status: 403,
      details: 'MissingScope admin:read',
    });
  }
}
