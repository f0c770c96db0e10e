import { ForbiddenException, UnauthorizedException } from '@nestjs/common';

/** 401 in the platform's JSON shape; `details` says what was wrong and never echoes secrets. */
export function unauthenticated(details: string): UnauthorizedException {
  return new UnauthorizedException({ message: 'Unauthenticated', details });
}

export function forbidden(details: unknown): ForbiddenException {
  return new ForbiddenException({ message: 'Forbidden', details });
}
