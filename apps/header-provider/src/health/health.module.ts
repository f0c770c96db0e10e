import { Module } from '@nestjs/common';
import { TokenModule } from '../token/token.module';
import { HealthController } from './health.controller';

@Module({ imports: [TokenModule], controllers: [HealthController] })
export class HealthModule {}
