import { Module } from '@nestjs/common';
import { SigningKeysService } from './signing-keys.service';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

@Module({
  controllers: [TokensController],
  providers: [SigningKeysService, TokensService],
  exports: [TokensService],
})
export class TokensModule {}
