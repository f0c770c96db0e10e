import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes } from '../auth/guards';
import { KEYS_READ, KEYS_WRITE, type Principal } from '@edge/auth-contract';
import {
  CreateKeyDto,
  KeyListDto,
  KeyViewDto,
  KeyWithSecretDto,
  RotateKeyDto,
  RotatedKeyDto,
} from './keys.dto';
import { KeysService } from './keys.service';

@ApiTags('keys')
@Controller('keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Post()
  @RequireScopes(KEYS_WRITE)
  @ApiOperation({ summary: "Create a child key with a subset of the caller's scopes" })
  @ApiCreatedResponse({ type: KeyWithSecretDto })
  create(
    @CurrentPrincipal() caller: Principal,
    @Body() body: CreateKeyDto,
  ): Promise<KeyWithSecretDto> {
    return this.keys.createChildKey(caller, body);
  }

  @Get()
  @RequireScopes(KEYS_READ)
  @ApiOperation({ summary: "List the caller's tenant's keys (never secrets)" })
  @ApiOkResponse({ type: KeyListDto })
  list(@CurrentPrincipal() caller: Principal): Promise<KeyListDto> {
    return this.keys.list(caller);
  }

  @Post(':keyId/revoke')
  @HttpCode(200)
  @RequireScopes(KEYS_WRITE)
  @ApiOperation({ summary: 'Revoke a key (idempotent); announced to every replica at once' })
  @ApiOkResponse({ type: KeyViewDto })
  @ApiNotFoundResponse({ description: 'No such key in the caller tenant' })
  revoke(
    @CurrentPrincipal() caller: Principal,
    @Param('keyId') keyId: string,
  ): Promise<KeyViewDto> {
    return this.keys.revoke(caller, keyId);
  }

  @Post(':keyId/rotate')
  @HttpCode(200)
  @RequireScopes(KEYS_WRITE)
  @ApiOperation({ summary: 'New secret (shown once); the old one works for the grace period' })
  @ApiOkResponse({ type: RotatedKeyDto })
  @ApiNotFoundResponse({ description: 'No such key in the caller tenant' })
  rotate(
    @CurrentPrincipal() caller: Principal,
    @Param('keyId') keyId: string,
    @Body() body: RotateKeyDto,
  ): Promise<RotatedKeyDto> {
    return this.keys.rotate(caller, keyId, body.grace_period_seconds);
  }
}
