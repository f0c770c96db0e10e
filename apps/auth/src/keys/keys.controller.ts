import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
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
  ListKeysQueryDto,
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
  @ApiOperation({
    summary: 'List the calling key and the keys below it, a page at a time (never secrets)',
  })
  @ApiOkResponse({ type: KeyListDto })
  list(
    @CurrentPrincipal() caller: Principal,
    @Query() query: ListKeysQueryDto,
  ): Promise<KeyListDto> {
    return this.keys.list(caller, query);
  }

  @Post(':keyId/revoke')
  @HttpCode(200)
  @RequireScopes(KEYS_WRITE)
  @ApiOperation({
    summary:
      'Revoke the calling key or one below it, and every key below that (idempotent); ' +
      'announced to every replica at once',
  })
  @ApiOkResponse({ type: KeyViewDto })
  @ApiNotFoundResponse({ description: 'Not the calling key or one of its descendants' })
  revoke(
    @CurrentPrincipal() caller: Principal,
    @Param('keyId') keyId: string,
  ): Promise<KeyViewDto> {
    return this.keys.revoke(caller, keyId);
  }

  @Post(':keyId/rotate')
  @HttpCode(200)
  @RequireScopes(KEYS_WRITE)
  @ApiOperation({
    summary:
      'New secret (shown once) for the calling key or one below it; the old secret works for ' +
      'the grace period, tokens issued before the rotation stop at once',
  })
  @ApiOkResponse({ type: RotatedKeyDto })
  @ApiNotFoundResponse({ description: 'Not the calling key or one of its descendants' })
  rotate(
    @CurrentPrincipal() caller: Principal,
    @Param('keyId') keyId: string,
    @Body() body: RotateKeyDto,
  ): Promise<RotatedKeyDto> {
    return this.keys.rotate(caller, keyId, body.grace_period_seconds);
  }
}
