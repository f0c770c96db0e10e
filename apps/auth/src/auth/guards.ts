import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  applyDecorators,
  UseGuards,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { type Request } from 'express';
import {
  errorDetails,
  formatScopes,
  missingScopes,
  type Principal,
  type Scope,
} from '@edge/auth-contract';
import { API_KEY_STRATEGY } from './api-key.strategy';
import { forbidden, unauthenticated } from './errors';
import { JWT_STRATEGY } from './jwt.strategy';

function handle<T>(err: unknown, user: T | false): T {
  if (err) throw err instanceof Error ? err : new Error('authentication failed');
  if (!user) throw unauthenticated('NoCredentials One of identity or secret not passed');
  return user;
}

/** HTTP Basic with an API key only (token exchange). */
@Injectable()
export class ApiKeyAuthGuard extends AuthGuard(API_KEY_STRATEGY) {
  override handleRequest<T>(err: unknown, user: T | false): T {
    return handle(err, user);
  }
}

/** An API key (Basic) or an access token (Bearer). */
@Injectable()
export class KeyOrTokenAuthGuard extends AuthGuard([API_KEY_STRATEGY, JWT_STRATEGY]) {
  override handleRequest<T>(err: unknown, user: T | false): T {
    return handle(err, user);
  }
}

const SCOPES_KEY = 'edge:required-scopes';

/** 403 unless the principal holds every listed scope. */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const required =
      this.reflector.getAllAndOverride<Scope[] | undefined>(SCOPES_KEY, [
        ctx.getHandler(),
        ctx.getClass(),
      ]) ?? [];
    const principal = ctx.switchToHttp().getRequest<Request & { user?: Principal }>().user;
    if (!principal) throw unauthenticated('NoCredentials One of identity or secret not passed');
    const missing = missingScopes(required, principal.scopes);
    if (missing.length > 0) {
      // The gateway's shape: `MissingScope a:b,c:d` (contract code, same as the authn processor).
      throw forbidden(errorDetails('MissingScope', formatScopes(missing)));
    }
    return true;
  }
}

/** Guards a route with an API key or access token holding `scopes`. */
export function RequireScopes(...scopes: Scope[]) {
  return applyDecorators(
    SetMetadata(SCOPES_KEY, scopes),
    UseGuards(KeyOrTokenAuthGuard, ScopesGuard),
    ApiBasicAuth(),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'No, malformed or invalid credential' }),
    ApiForbiddenResponse({ description: 'Missing scopes' }),
  );
}

/** The authenticated principal (set by the guards). */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<Request & { user?: Principal }>();
  if (!req.user) throw unauthenticated('NoCredentials One of identity or secret not passed');
  return req.user;
});
