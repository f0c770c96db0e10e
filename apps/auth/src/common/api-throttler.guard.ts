import {
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import {
  seconds,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
} from '@nestjs/throttler';
import { type Response } from 'express';
import { type AuthConfig } from '../config/config';

const CREDENTIAL_ROUTE = 'edge:credential-route';

/** Marks a route that hands out credentials (create-root-key, token): a tighter budget. */
export const CredentialRoute = () => SetMetadata(CREDENTIAL_ROUTE, true);

function isCredentialRoute(ctx: ExecutionContext): boolean {
  const get = (target: object): unknown => Reflect.getMetadata(CREDENTIAL_ROUTE, target);
  return get(ctx.getHandler()) === true || get(ctx.getClass()) === true;
}

/**
 * Per-client (source address) budgets on the HTTP API, counted per route: `default` for every
 * route, `credentials` on top for the routes that hand out credentials.
 */
export function throttlerOptions(
  config: Pick<AuthConfig, 'THROTTLE_LIMIT' | 'THROTTLE_TTL_SECONDS' | 'THROTTLE_CREDENTIAL_LIMIT'>,
): ThrottlerModuleOptions {
  const ttl = seconds(config.THROTTLE_TTL_SECONDS);
  return {
    throttlers: [
      { name: 'default', ttl, limit: config.THROTTLE_LIMIT },
      {
        name: 'credentials',
        ttl,
        limit: config.THROTTLE_CREDENTIAL_LIMIT,
        skipIf: (ctx) => !isCredentialRoute(ctx),
      },
    ],
  };
}

/**
 * `@nestjs/throttler` for the HTTP API only (the gRPC API is for the gateway, not clients), with
 * the platform's JSON error body: 429 `{message, status, details: "RateLimited ..."}` and
 * `Retry-After`.
 */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  protected override shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    return Promise.resolve(ctx.getType() !== 'http');
  }

  protected override throwThrottlingException(
    ctx: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    // The library names the header after the throttler (`Retry-After-credentials`); clients
    // look for the plain one.
    ctx
      .switchToHttp()
      .getResponse<Response>()
      .setHeader('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    throw new HttpException(
      {
        message: 'Too Many Requests',
        details:
          `RateLimited at most ${detail.limit} requests per ${Math.round(detail.ttl / 1000)} s ` +
          `from one client on this route; retry after ${detail.timeToBlockExpire} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
