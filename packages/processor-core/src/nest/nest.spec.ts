import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamContext } from '../context';
import { silentLogger } from '../logger';
import type { HeadersPhase } from '../phase';
import { BaseProcessor } from '../processor';
import { connectHarness } from '../testing';
import {
  createExtProcMicroservice,
  ExtProcModule,
  ExtProcService,
  ExtProcTransport,
  extProcMicroserviceOptions,
} from './index';

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

// The processor's dependency closes in onApplicationShutdown: the ext_proc server must be drained
// before it (the order documented on ExtProcService).
const events: string[] = [];
let streamEntered: () => void = () => undefined;
@Injectable()
class Dependency {
  onApplicationShutdown(): void {
    events.push('dependency closed');
  }
}

@Injectable()
class SlowProcessor extends BaseProcessor {
  readonly name = 'slow';
  constructor(private readonly dep: Dependency) {
    super();
  }
  async onRequestHeaders(_ctx: StreamContext, p: HeadersPhase): Promise<void> {
    streamEntered();
    await new Promise((r) => setTimeout(r, 150));
    events.push('stream answered');
    p.setHeader('x-dep', this.dep.constructor.name);
  }
}

@Module({ providers: [Dependency], exports: [Dependency] })
class DependencyModule {}

@Module({
  imports: [
    DependencyModule,
    ExtProcModule.forRoot({
      imports: [DependencyModule],
      processors: [SlowProcessor],
      server: { host: '127.0.0.1', port: 0, logger: silentLogger, metrics: false },
    }),
  ],
})
class StandaloneModule {}

describe('ExtProcModule + ExtProcTransport', () => {
  it('runs as a standalone microservice (createExtProcMicroservice) and drains before shutdown hooks', async () => {
    events.length = 0;
    const app = await createExtProcMicroservice(StandaloneModule, {
      logger: false,
      abortOnError: false,
    });
    apps.push(app);
    await app.listen();
    const service = app.get(ExtProcService);
    expect(service.isServing()).toBe(true);
    expect(app.unwrap()).toBe(service.extProcServer);
    const h = connectHarness({ address: `127.0.0.1:${service.port}` });
    const entered = new Promise<void>((r) => (streamEntered = r));
    const pending = h.requestHeaders({ ':method': 'GET', ':path': '/' });
    await entered; // the stream is in flight
    const closing = app.close();
    const r = await pending;
    expect(r.headers.set['x-dep']).toBe('Dependency');
    await closing;
    apps.pop();
    await h.end();
    expect(events).toEqual(['stream answered', 'dependency closed']);
    expect(service.isServing()).toBe(false);
  });

  it('works with NestFactory.createMicroservice(AppModule, extProcMicroserviceOptions())', async () => {
    const app = await NestFactory.createMicroservice(AppModule, {
      logger: false,
      ...extProcMicroserviceOptions(),
    });
    apps.push(app);
    await app.listen();
    const h = connectHarness({ address: `127.0.0.1:${app.get(ExtProcService).port}` });
    const r = await h.requestHeaders({ ':method': 'GET', ':path': '/' });
    expect(r.headers.set['x-greeting']).toBe('hello-from-di');
    await h.end();
  });

  it('shutdown() is idempotent, safe before start, and start() after it rejects', async () => {
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    apps.push(app);
    const service = app.get(ExtProcService);
    await expect(service.shutdown()).resolves.toBeUndefined();
    expect(service.shutdown()).toBe(service.shutdown());
    await expect(service.start()).rejects.toThrow(/after shutdown/);
    expect(service.extProcServer).toBeUndefined();

    const app2 = await NestFactory.createApplicationContext(AppModule, { logger: false });
    apps.push(app2);
    const s2 = app2.get(ExtProcService);
    const port = await s2.start();
    expect(await s2.start()).toBe(port);
    let stopped = false;
    void s2.stopped.then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    await Promise.all([s2.shutdown(), s2.shutdown(), app2.close()]);
    await s2.stopped;
    expect(stopped).toBe(true);
    expect(s2.isServing()).toBe(false);
  });

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
