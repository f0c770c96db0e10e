import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { statusMessage } from '@edge/auth-contract';

/**
 * 401 in the platform's JSON shape; `details` is `"<Code> <sentence>"` with a code of the
 * contract (`@edge/auth-contract`, UNAUTHENTICATED_CODES) and never echoes secrets.
 */
export function unauthenticated(details: string): UnauthorizedException {
  return new UnauthorizedException({ message: statusMessage(401), details });
}

export function forbidden(details: unknown): ForbiddenException {
  return new ForbiddenException({ message: statusMessage(403), details });
}
