import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { SigningKeysService } from './signing-keys.service';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

@Module({
  imports: [KeysModule],
  controllers: [TokensController],
  providers: [SigningKeysService, TokensService],
  exports: [TokensService],
})
export class TokensModule {}
