import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { type Request } from 'express';
import { constantTimeEqual } from '@edge/nest-common/secrets';
import { AUTH_CONFIG, type AuthConfig } from '../config/config';
import { splitAuthorization } from './basic-header';
import { forbidden, unauthenticated } from './errors';

/**
 * Guards create-root-key. When ADMIN_TOKEN is configured (mandatory unless AUTH_DEV_MODE) the
 * request must carry `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. Only
 * with the explicit AUTH_DEV_MODE opt-in (loopback only) and no token is the route open, so the
 * quickstart works with no set-up.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: Pick<AuthConfig, 'ADMIN_TOKEN' | 'AUTH_DEV_MODE'>,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const expected = this.config.ADMIN_TOKEN;
    if (expected === undefined) {
      // The config schema refuses to start without ADMIN_TOKEN outside dev mode; fail closed
      // regardless.
      if (!this.config.AUTH_DEV_MODE) throw forbidden('admin token not configured');
      return true;
    }
    const auth = splitAuthorization(ctx.switchToHttp().getRequest<Request>().headers.authorization);
    if (!auth || auth.scheme !== 'bearer' || auth.value === '') {
      throw unauthenticated('NoCredentials An admin bearer token is required');
    }
    if (!constantTimeEqual(auth.value, expected)) throw forbidden('invalid admin token');
    return true;
  }
}
