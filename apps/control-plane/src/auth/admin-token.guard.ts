import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { type Request } from 'express';
import { apiError } from '../common/api-error';
import { constantTimeEqual } from '@edge/nest-common/secrets';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '../config/control-plane.config';

/**
 * The admin API's only credential: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant
 * time. Fails closed: no header, another scheme or a wrong token is a 401 JSON.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: Pick<ControlPlaneConfig, 'ADMIN_TOKEN'>,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const header = ctx.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const m = /^Bearer ([\x21-\x7e]+)$/i.exec(header);
    if (!m) throw apiError(401, 'NoCredentials An admin bearer token is required');
    if (!constantTimeEqual(m[1]!, this.config.ADMIN_TOKEN)) {
      throw apiError(401, 'InvalidToken The admin token is not valid');
    }
    return true;
  }
}
