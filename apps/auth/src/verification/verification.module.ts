import { Module } from '@nestjs/common';
import { KeyEventsModule } from '../key-events/key-events.module';
import { KeysModule } from '../keys/keys.module';
import { VerificationController } from './verification.controller';

@Module({ imports: [KeysModule, KeyEventsModule], controllers: [VerificationController] })
export class VerificationModule {}
