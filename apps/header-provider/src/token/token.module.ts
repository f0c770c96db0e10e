import { Module } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AuthClient } from './auth-client';
import { TokenService } from './token.service';

@Module({
  providers: [AuthClient, Clock, TokenService],
  exports: [TokenService],
})
export class TokenModule {}
