import { Controller, Get, HttpException, HttpStatus } from '@nestjs/common';
import { TokenService } from '../token/token.service';

@Controller('health')
export class HealthController {
  constructor(private readonly tokens: TokenService) {}

  /** 200 while a valid workload token is held, else 503 JSON (not ready to serve /headers). */
  @Get()
  check(): { status: 'ok'; token_expires_at: string } {
    if (this.tokens.current() === undefined) {
      throw new HttpException(
        'TokenUnavailable No valid workload token',
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    return { status: 'ok', token_expires_at: new Date(this.tokens.expiresAtMs()).toISOString() };
  }
}
