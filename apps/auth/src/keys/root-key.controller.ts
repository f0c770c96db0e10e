import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard';
import { CredentialRoute } from '../common/api-throttler.guard';
import { KeyWithSecretDto } from './keys.dto';
import { KeysService } from './keys.service';

@ApiTags('keys')
@Controller()
@CredentialRoute()
export class RootKeyController {
  constructor(private readonly keys: KeysService) {}

  @Get('create-root-key')
  @UseGuards(AdminGuard)
  @ApiOperation({
    summary: 'Create a tenant, a user and its root key (keys:read, keys:write)',
    description:
      'Open only with AUTH_DEV_MODE=1 (loopback). When ADMIN_TOKEN is configured (required ' +
      'without dev mode), needs ' +
      '`Authorization: Bearer <ADMIN_TOKEN>`. The secret is shown once.',
  })
  @ApiBearerAuth()
  @ApiOkResponse({ type: KeyWithSecretDto })
  getRootKey(): Promise<KeyWithSecretDto> {
    return this.keys.createRootKey();
  }

  @Post('create-root-key')
  @HttpCode(200)
  @UseGuards(AdminGuard)
  @ApiOperation({ summary: 'Same as GET /create-root-key' })
  @ApiBearerAuth()
  @ApiOkResponse({ type: KeyWithSecretDto })
  postRootKey(): Promise<KeyWithSecretDto> {
    return this.keys.createRootKey();
  }
}
