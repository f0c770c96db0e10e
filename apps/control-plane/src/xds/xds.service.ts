import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { pkiLayout } from '@edge/xds-pki';
import { SnapshotCache, XdsServer } from '@edge/xds-server';
import { type Logger as PinoLike } from 'pino';
import { Registry } from 'prom-client';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '../config/control-plane.config';
import { LOGGER } from '../common/logger';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import { SnapshotsService } from '../snapshots/snapshots.service';

/**
 * xDS credentials: TLS with the control plane's certificate and a client certificate required,
 * signed by the project CA. Both files are re-read every XDS_CERT_REFRESH_MS, so a rotation
 * (`pki rotate`) needs no restart.
 */
export function xdsServerCredentials(
  config: Pick<ControlPlaneConfig, 'XDS_PKI_DIR' | 'XDS_CERT_REFRESH_MS'>,
): ServerCredentials {
  const layout = pkiLayout(config.XDS_PKI_DIR);
  const ca = new experimental.FileWatcherCertificateProvider({
    caCertificateFile: layout.ca.cert,
    refreshIntervalMs: config.XDS_CERT_REFRESH_MS,
  });
  const identity = new experimental.FileWatcherCertificateProvider({
    certificateFile: layout.server.cert,
    privateKeyFile: layout.server.key,
    refreshIntervalMs: config.XDS_CERT_REFRESH_MS,
  });
  return experimental.createCertificateProviderServerCredentials(ca, identity, true);
}

/** The xDS server's lifecycle (bound after every snapshot is published, stopped on shutdown). */
@Injectable()
export class XdsService implements OnModuleDestroy {
  readonly server: XdsServer;
  private port: number | undefined;

  constructor(
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(SnapshotCache) cache: SnapshotCache,
    @Inject(Registry) registry: Registry,
    @Inject(LOGGER) logger: PinoLike,
    @Inject(ControlPlaneMetrics) metrics: ControlPlaneMetrics,
    @Inject(SnapshotsService) snapshots: SnapshotsService,
  ) {
    this.server = new XdsServer({ cache, logger: logger.child({ component: 'xds' }), registry });
    this.server.on('ack', (e) => {
      const at = snapshots.publishedAt.get(e.node.id);
      if (at !== undefined) metrics.observeAck(e.node.id, e.typeUrl, e.version, at);
    });
    this.server.on('nack', (e) => {
      logger.warn(
        { node: e.node.id, typeUrl: e.typeUrl, version: e.version, error: e.message },
        'NACK: the node keeps its last good version',
      );
    });
  }

  async start(): Promise<number> {
    this.port = await this.server.bind(
      this.config.XDS_HOST,
      this.config.XDS_PORT,
      xdsServerCredentials(this.config),
    );
    return this.port;
  }

  boundPort(): number | undefined {
    return this.port;
  }

  async onModuleDestroy(): Promise<void> {
    await this.server.stop();
  }
}
