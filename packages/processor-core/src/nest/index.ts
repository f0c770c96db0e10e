// @edge/processor-core/nest: run processor-core processors inside a NestJS app. Processors are
// Nest providers (DI, config); messages go straight from grpc-js into processor-core (no RxJS,
// no Nest pipeline per message). Started through @nestjs/microservices as a custom transport.
import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type INestMicroservice,
  type Provider,
  type Type,
} from '@nestjs/common';
// Not re-exported from the package root (NestFactory.createMicroservice's own option type).
import type { NestMicroserviceOptions } from '@nestjs/common/interfaces/microservices/nest-microservice-options.interface';
import { ModuleRef, NestFactory } from '@nestjs/core';
import {
  Server,
  type AsyncMicroserviceOptions,
  type CustomStrategy,
  type CustomTransportStrategy,
} from '@nestjs/microservices';
import type { Logger } from '../logger';
import { compose, type AnyProcessor } from '../processor';
import { createExtProcServer, type ExtProcServer, type ExtProcServerOptions } from '../server';

export const EXT_PROC_MODULE_OPTIONS = Symbol('EXT_PROC_MODULE_OPTIONS');

export type ExtProcServerSettings = Omit<ExtProcServerOptions, 'processor' | 'processors'>;

export interface ExtProcModuleOptions {
  /** Processor classes; each becomes a Nest provider (inject whatever it needs). */
  processors: Type<AnyProcessor>[];
  /**
   * `true`: run them in one stream, in order (`compose`); `false` (default): one processor per
   * Envoy ext_proc filter, selected by the `x-ext-proc-processor` gRPC metadata.
   */
  compose?: boolean;
  /** Server settings (port, limits, logger, metrics...). */
  server?: ExtProcServerSettings;
  /** Modules exporting what the processors inject (not needed for global modules). */
  imports?: DynamicModule['imports'];
}

export interface ExtProcModuleAsyncOptions {
  processors: Type<AnyProcessor>[];
  compose?: boolean;
  /** Modules exporting what the processors and `useFactory` inject. */
  imports?: DynamicModule['imports'];
  inject?: (string | symbol | Type)[];
  /** Builds the server settings from injected providers (e.g. a validated config service). */
  useFactory: (...deps: never[]) => ExtProcServerSettings | Promise<ExtProcServerSettings>;
}

interface ResolvedOptions {
  processors: Type<AnyProcessor>[];
  compose: boolean;
  server: ExtProcServerSettings;
}

/**
 * The one owner of the app's ext_proc server: start, health, graceful shutdown with the app.
 *
 * Started by `ExtProcTransport` (through @nestjs/microservices) or by calling `start()` yourself.
 * It drains in `beforeApplicationShutdown` (on `app.close()` and on a signal alike: the transport's
 * `close()` does not drain), i.e. after every `onModuleDestroy` and before any
 * `onApplicationShutdown` hook, so close what your processors depend on (gRPC clients, pools) in
 * `onApplicationShutdown`. To run something after the drain, await `stopped` there.
 */
@Injectable()
export class ExtProcService implements BeforeApplicationShutdown {
  private server: ExtProcServer | undefined;
  private starting: Promise<number> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly onStop: (() => void)[] = [];

  constructor(
    @Inject(EXT_PROC_MODULE_OPTIONS) private readonly options: ResolvedOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The running server (undefined before `start`). */
  get extProcServer(): ExtProcServer | undefined {
    return this.server;
  }

  /** The bound port (useful with `port: 0`); 0 before `start` resolves. */
  get port(): number {
    return this.server?.port ?? 0;
  }

  /**
   * Builds the server from the DI-resolved processors and starts it; resolves with the port.
   * Calling it again returns the same start; after `shutdown()` it rejects (a service starts once).
   */
  start(overrides: Partial<ExtProcServerSettings> = {}): Promise<number> {
    if (this.stopping !== undefined) {
      return Promise.reject(new Error('ExtProcService: start() after shutdown()'));
    }
    this.starting ??= this.listen(overrides);
    return this.starting;
  }

  private async listen(overrides: Partial<ExtProcServerSettings>): Promise<number> {
    const instances = this.options.processors.map((cls) =>
      this.moduleRef.get(cls, { strict: false }),
    );
    const settings = { ...this.options.server, ...overrides };
    this.server = createExtProcServer(
      this.options.compose
        ? { ...settings, processor: compose(instances) }
        : { ...settings, processors: instances },
    );
    return this.server.listen();
  }

  /** True while the server reports SERVING (for a terminus health indicator). */
  isServing(): boolean {
    return this.server?.health.get() === 'SERVING';
  }

  /**
   * Graceful stop: NOT_SERVING, refuse new streams, wait for in-flight streams (up to
   * `shutdownGraceMs`), then force. The app's shutdown calls it (`beforeApplicationShutdown`);
   * call it yourself only when you run the service without an app lifecycle. Idempotent: every
   * call returns the same promise; a no-op when the server never started.
   * A start still in progress is awaited first, so a server that comes up late is stopped too.
   */
  shutdown(): Promise<void> {
    if (this.stopping === undefined) {
      this.stopping = (async () => {
        await this.starting?.catch(() => undefined);
        await this.server?.shutdown();
      })();
      for (const resolve of this.onStop.splice(0)) void this.stopping.then(resolve, resolve);
    }
    return this.stopping;
  }

  /** Resolves once `shutdown()` (run by the app's shutdown) has drained the server. */
  get stopped(): Promise<void> {
    return this.stopping ?? new Promise<void>((resolve) => this.onStop.push(resolve));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }
}

/**
 * The custom transport strategy. It is a provider of `ExtProcModule`, so it reaches the
 * DI-built processors through `ExtProcService`; get it from the container:
 *
 * ```ts
 * // Standalone microservice (no HTTP server):
 * const app = await createExtProcMicroservice(AppModule);
 * await app.listen();
 * // or, spelled out: NestFactory.createMicroservice(AppModule, extProcMicroserviceOptions())
 *
 * // Hybrid (next to an HTTP app):
 * const app = await NestFactory.create(AppModule);
 * app.connectMicroservice({ strategy: app.get(ExtProcTransport) });
 * await app.startAllMicroservices();
 * ```
 */
@Injectable()
export class ExtProcTransport extends Server implements CustomTransportStrategy {
  constructor(private readonly service: ExtProcService) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.service.start().then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  /**
   * Nothing to do: the drain belongs to `ExtProcService` (its `beforeApplicationShutdown`), which
   * Nest runs on `app.close()` and on a signal alike, in the same place relative to the other
   * shutdown hooks. Nest calls this first on `app.close()` (and again at the end on a signal).
   */
  close(): Promise<void> {
    return Promise.resolve();
  }

  // No Nest message handlers or events: messages never enter Nest's pipeline.
  on(): void {}

  unwrap<T>(): T {
    return this.service.extProcServer as T;
  }
}

@Module({})
export class ExtProcModule {
  static forRoot(options: ExtProcModuleOptions): DynamicModule {
    const resolved: ResolvedOptions = {
      processors: options.processors,
      compose: options.compose ?? false,
      server: options.server ?? {},
    };
    const mod = ExtProcModule.build(options.processors, {
      provide: EXT_PROC_MODULE_OPTIONS,
      useValue: resolved,
    });
    return { ...mod, imports: options.imports ?? [] };
  }

  static forRootAsync(options: ExtProcModuleAsyncOptions): DynamicModule {
    const provider: Provider = {
      provide: EXT_PROC_MODULE_OPTIONS,
      inject: options.inject ?? [],
      useFactory: async (...deps: never[]): Promise<ResolvedOptions> => ({
        processors: options.processors,
        compose: options.compose ?? false,
        server: await options.useFactory(...deps),
      }),
    };
    const mod = ExtProcModule.build(options.processors, provider);
    return { ...mod, imports: options.imports ?? [] };
  }

  private static build(processors: Type<AnyProcessor>[], optionsProvider: Provider): DynamicModule {
    return {
      module: ExtProcModule,
      global: true,
      providers: [optionsProvider, ...processors, ExtProcService, ExtProcTransport],
      exports: [ExtProcService, ExtProcTransport, ...processors],
    };
  }
}

/**
 * Options for `NestFactory.createMicroservice` that take the strategy from the DI container
 * (Nest resolves `inject` after the module graph is built, before `listen()`), so processors
 * can be ordinary providers: `NestFactory.createMicroservice(AppModule, extProcMicroserviceOptions())`.
 */
export function extProcMicroserviceOptions(): AsyncMicroserviceOptions {
  return {
    inject: [ExtProcTransport],
    useFactory: (strategy: ExtProcTransport): CustomStrategy => ({ strategy }),
  };
}

/**
 * Creates a standalone Nest microservice (no HTTP server) served by `ExtProcTransport`. The
 * module must import `ExtProcModule.forRoot(...)` / `forRootAsync(...)`. Call `listen()` on the
 * result: Nest runs the init and bootstrap hooks, then the ext_proc server starts. `close()`
 * runs the app's shutdown hooks; the ext_proc streams drain in `beforeApplicationShutdown`.
 */
export function createExtProcMicroservice(
  module: Type | DynamicModule,
  options: NestMicroserviceOptions = {},
): Promise<INestMicroservice> {
  return NestFactory.createMicroservice<AsyncMicroserviceOptions>(module, {
    ...options,
    ...extProcMicroserviceOptions(),
  });
}

/** Adapts Nest's Logger (or any `log/warn/error/debug(message, context)` logger) to the core's Logger. */
export function nestLogger(l: {
  log(message: unknown, ...rest: unknown[]): void;
  warn(message: unknown, ...rest: unknown[]): void;
  error(message: unknown, ...rest: unknown[]): void;
  debug?(message: unknown, ...rest: unknown[]): void;
}): Logger {
  return {
    debug: (f, m) => l.debug?.({ msg: m, ...f }),
    info: (f, m) => l.log({ msg: m, ...f }),
    warn: (f, m) => l.warn({ msg: m, ...f }),
    error: (f, m) => l.error({ msg: m, ...f }),
  };
}
