// @edge/processor-core/nest: run processor-core processors inside a NestJS app. Processors are
// Nest providers (DI, config); messages go straight from grpc-js into processor-core (no RxJS,
// no Nest pipeline per message). Started through @nestjs/microservices as a custom transport.
import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
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
}

export interface ExtProcModuleAsyncOptions {
  processors: Type<AnyProcessor>[];
  compose?: boolean;
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

/** Owns the ext_proc server of the app: start, health, graceful shutdown with the app. */
@Injectable()
export class ExtProcService implements OnApplicationShutdown {
  private server: ExtProcServer | undefined;

  constructor(
    @Inject(EXT_PROC_MODULE_OPTIONS) private readonly options: ResolvedOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The running server (undefined before `start`). */
  get extProcServer(): ExtProcServer | undefined {
    return this.server;
  }

  /** Builds and starts the server from the DI-resolved processors; resolves with the port. */
  async start(overrides: Partial<ExtProcServerSettings> = {}): Promise<number> {
    if (this.server !== undefined) return this.server.port;
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

  async shutdown(): Promise<void> {
    await this.server?.shutdown();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }
}

/**
 * The custom transport strategy:
 *
 * ```ts
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

  async close(): Promise<void> {
    await this.service.shutdown();
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
    return ExtProcModule.build(options.processors, {
      provide: EXT_PROC_MODULE_OPTIONS,
      useValue: resolved,
    });
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
