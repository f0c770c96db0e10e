import { Module } from '@nestjs/common';
import { EchoController } from './echo.controller';
import { EchoService } from './echo.service';
import { RequestCounter } from './request-counter';

@Module({ controllers: [EchoController], providers: [EchoService, RequestCounter] })
export class EchoModule {}
