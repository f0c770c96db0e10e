import { Controller, Get, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { type JWK } from 'jose';
import { ApiKeyAuthGuard, CurrentPrincipal } from '../auth/guards';
import { type Principal } from '@edge/auth-contract';
import { CredentialRoute } from '../common/api-throttler.guard';
import { KeysService } from '../keys/keys.service';
import { SigningKeysService } from './signing-keys.service';
import { TokensService, type TokenResponse } from './tokens.service';

class TokenResponseDto implements TokenResponse {
  @ApiProperty() access_token!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
  @ApiProperty({ description: 'Seconds until the token expires' }) expires_in!: number;
}

@ApiTags('tokens')
@Controller()
export class TokensController {
  constructor(
    private readonly tokens: TokensService,
    private readonly signingKeys: SigningKeysService,
    private readonly keys: KeysService,
  ) {}

  @Post('token')
  @HttpCode(200)
  @CredentialRoute()
  @UseGuards(ApiKeyAuthGuard)
  @Header('Cache-Control', 'no-store')
  @ApiBasicAuth()
  @ApiOperation({
    summary: 'Exchange an API key (HTTP Basic) for a short-lived access token (JWT, ES256)',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  async token(@CurrentPrincipal() principal: Principal): Promise<TokenResponse> {
    return this.tokens.issue(principal, await this.keys.tokensNotBefore(principal.keyId));
  }

  @Get('.well-known/jwks.json')
  // Public, served from memory, and what every gateway fetches: never throttled.
  @SkipThrottle({ default: true, credentials: true })
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOperation({ summary: 'Public signing keys (current, upcoming and recently retired)' })
  jwks(): { keys: JWK[] } {
    return this.signingKeys.jwks();
  }
}
