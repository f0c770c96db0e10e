import { type DynamicModule, Module } from '@nestjs/common';
import { ECHO_CONFIG, type EchoConfig } from './config/echo.config';
import { EchoModule } from './echo/echo.module';

@Module({})
export class AppModule {
  static forRoot(config: EchoConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [EchoModule],
      providers: [{ provide: ECHO_CONFIG, useValue: config }],
      exports: [ECHO_CONFIG],
    };
  }
}
