import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { KeysModule } from '../keys/keys.module';
import { TokensModule } from '../tokens/tokens.module';
import { ApiKeyStrategy } from './api-key.strategy';
import { JwtStrategy } from './jwt.strategy';

/** Registers the passport strategies ("api-key", "jwt") used by the route guards. */
@Module({
  imports: [PassportModule, KeysModule, TokensModule],
  providers: [ApiKeyStrategy, JwtStrategy],
})
export class AuthModule {}
