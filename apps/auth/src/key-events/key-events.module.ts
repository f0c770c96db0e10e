import { Module } from '@nestjs/common';
import { KeyEventsService } from './key-events.service';

@Module({ providers: [KeyEventsService], exports: [KeyEventsService] })
export class KeyEventsModule {}
