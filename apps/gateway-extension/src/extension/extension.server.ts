import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  type sendUnaryData,
  type ServerUnaryCall,
  Server,
  ServerCredentials,
  status,
} from '@grpc/grpc-js';
import { egExtension } from '@edge/protos';
import {
  GATEWAY_EXTENSION_CONFIG,
  type GatewayExtensionConfig,
} from '../config/gateway-extension.config';
import { LOGGER, type Logger } from '../logging/logger';
import { GatewayExtensionMetrics, type HookName } from '../metrics/gateway-extension.metrics';
import { ExtensionService } from './extension.service';

/** Envoy Gateway sends every cluster/listener/route in PostTranslateModify: room for large xDS. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * The gRPC server of `envoygateway.extension.EnvoyGatewayExtension` on GRPC_PORT (grpc-js,
 * the generated service definition). Owns its lifecycle: listens at bootstrap; on shutdown it
 * stops taking calls, lets in-flight ones finish within SHUTDOWN_GRACE_MS, then forces the
 * rest. Every call is timed and counted; an exception becomes INTERNAL (logged), never a crash.
 */
@Injectable()
export class ExtensionServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: Server | undefined;
  private serving = false;
  port = 0;

  constructor(
    @Inject(GATEWAY_EXTENSION_CONFIG) private readonly config: GatewayExtensionConfig,
    @Inject(ExtensionService) private readonly hooks: ExtensionService,
    @Inject(GatewayExtensionMetrics) private readonly metrics: GatewayExtensionMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  isServing(): boolean {
    return this.serving;
  }

  private unary<Req, Res>(hook: HookName, handle: (req: Req) => Res) {
    return (call: ServerUnaryCall<Req, Res>, done: sendUnaryData<Res>): void => {
      const end = this.metrics.hookDuration.startTimer({ hook });
      try {
        const res = handle(call.request);
        this.metrics.hookCalls.labels(hook, 'ok').inc();
        done(null, res);
      } catch (err) {
        this.metrics.hookCalls.labels(hook, 'error').inc();
        const message = err instanceof Error ? err.message : String(err);
        this.logger.error({ event: 'hook_failed', hook, err: message }, `${hook} failed`);
        done({ code: status.INTERNAL, details: `${hook}: ${message}` });
      } finally {
        end();
      }
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = new Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
    const impl: egExtension.EnvoyGatewayExtensionServer = {
      postRouteModify: this.unary('PostRouteModify', (r: egExtension.PostRouteModifyRequest) =>
        this.hooks.postRouteModify(r),
      ),
      postHttpListenerModify: this.unary(
        'PostHTTPListenerModify',
        (r: egExtension.PostHTTPListenerModifyRequest) => this.hooks.postHttpListenerModify(r),
      ),
      postTranslateModify: this.unary(
        'PostTranslateModify',
        (r: egExtension.PostTranslateModifyRequest) => this.hooks.postTranslateModify(r),
      ),
      // Not enabled in the chart's hook list; answered unchanged should they be turned on.
      postVirtualHostModify: this.unary(
        'PostVirtualHostModify',
        (r: egExtension.PostVirtualHostModifyRequest) => ({ virtualHost: r.virtualHost }),
      ),
      postClusterModify: this.unary(
        'PostClusterModify',
        (r: egExtension.PostClusterModifyRequest) => ({ cluster: r.cluster }),
      ),
    };
    server.addService(egExtension.EnvoyGatewayExtensionService, impl);
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `${this.config.GRPC_HOST}:${this.config.GRPC_PORT}`,
        ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      );
    });
    this.server = server;
    this.serving = true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.serving = false;
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, this.config.SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
