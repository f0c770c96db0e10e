import { Module } from '@nestjs/common';
import { TokenModule } from '../token/token.module';
import { HeadersController } from './headers.controller';
import { HeadersService } from './headers.service';

@Module({
  imports: [TokenModule],
  controllers: [HeadersController],
  providers: [HeadersService],
})
export class HeadersModule {}
