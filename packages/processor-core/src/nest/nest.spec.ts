import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamContext } from '../context';
import { silentLogger } from '../logger';
import type { HeadersPhase } from '../phase';
import { BaseProcessor } from '../processor';
import { connectHarness } from '../testing';
import { ExtProcModule, ExtProcService, ExtProcTransport } from './index';

@Injectable()
class GreetingService {
  greeting(): string {
    return 'hello-from-di';
  }
}

@Module({ providers: [GreetingService], exports: [GreetingService] })
class GreetingModule {}

@Injectable()
class DiProcessor extends BaseProcessor {
  readonly name = 'di';
  constructor(private readonly greetings: GreetingService) {
    super();
  }
  onRequestHeaders(_ctx: StreamContext, p: HeadersPhase): void {
    p.setHeader('x-greeting', this.greetings.greeting());
  }
}

@Module({
  imports: [
    GreetingModule,
    ExtProcModule.forRootAsync({
      imports: [GreetingModule],
      processors: [DiProcessor],
      useFactory: () => ({ host: '127.0.0.1', port: 0, logger: silentLogger }),
    }),
  ],
})
class AppModule {}

const apps: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('ExtProcModule + ExtProcTransport', () => {
  it('serves a DI-built processor through @nestjs/microservices and stops with the app', async () => {
    const app = await NestFactory.create(AppModule, { logger: false });
    apps.push(app);
    app.connectMicroservice({ strategy: app.get(ExtProcTransport) });
    await app.startAllMicroservices();
    const service = app.get(ExtProcService);
    expect(service.isServing()).toBe(true);
    const port = service.extProcServer!.port;
    const h = connectHarness({ address: `127.0.0.1:${port}` });
    const r = await h.requestHeaders({ ':method': 'GET', ':path': '/' });
    expect(r.headers.set['x-greeting']).toBe('hello-from-di');
    await h.end();
    await app.close();
    apps.pop();
    expect(service.isServing()).toBe(false);
  });
});
