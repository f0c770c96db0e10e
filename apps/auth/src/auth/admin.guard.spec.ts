import { ForbiddenException, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { AdminGuard } from './admin.guard';

const ctx = (authorization?: string) =>
  ({
    switchToHttp: () => ({ getRequest: () => ({ headers: { authorization } }) }),
  }) as unknown as ExecutionContext;

const TOKEN = 't'.repeat(40);

describe('AdminGuard', () => {
  it('is open only with the explicit dev-mode opt-in and no admin token', () => {
    expect(new AdminGuard({ AUTH_DEV_MODE: true, ADMIN_TOKEN: undefined }).canActivate(ctx())).toBe(
      true,
    );
  });

  it('fails closed without dev mode and without a configured token (whatever NODE_ENV)', () => {
    expect(() =>
      new AdminGuard({ AUTH_DEV_MODE: false, ADMIN_TOKEN: undefined }).canActivate(ctx()),
    ).toThrow(ForbiddenException);
  });

  it('requires the bearer token when configured', () => {
    const g = new AdminGuard({ AUTH_DEV_MODE: false, ADMIN_TOKEN: TOKEN });
    expect(() => g.canActivate(ctx())).toThrow(UnauthorizedException);
    expect(() => g.canActivate(ctx('Basic abc'))).toThrow(UnauthorizedException);
    expect(() => g.canActivate(ctx(`Bearer ${TOKEN}x`))).toThrow(ForbiddenException);
    expect(g.canActivate(ctx(`Bearer ${TOKEN}`))).toBe(true);
  });
});
