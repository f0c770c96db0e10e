import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ServerCredentials } from '@grpc/grpc-js';
import { readPemFiles } from '@edge/service-config';
import { certificateNamesNode, pkiLayout } from '@edge/xds-pki';
import { SnapshotCache, XdsServer } from '@edge/xds-server';
import { type Logger as PinoLike } from 'pino';
import { Registry } from 'prom-client';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '../config/control-plane.config';
import { LOGGER } from '../common/logger';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import { SnapshotsService } from '../snapshots/snapshots.service';

/**
 * xDS credentials: TLS with the control plane's certificate, a client certificate required and
 * signed by the project CA (`checkClientCertificate`). Read once at start (checked by
 * readPemFiles): after `pki rotate` the control plane is restarted (Envoys keep serving and
 * resync); the Envoys themselves reload their new certificates through SDS without a restart.
 * (grpc-js's experimental file-watching certificate provider would avoid that restart, but in
 * 1.14.7 its TLS contexts negotiate no ALPN and Envoy's HTTP/2 connection is reset.)
 */
export function xdsServerCredentials(
  config: Pick<ControlPlaneConfig, 'XDS_PKI_DIR'>,
): ServerCredentials {
  const layout = pkiLayout(config.XDS_PKI_DIR);
  const pem = readPemFiles('control-plane', {
    XDS_CA: { path: layout.ca.cert, kind: 'ca' },
    XDS_SERVER_CERT: { path: layout.server.cert, kind: 'certificate' },
    XDS_SERVER_KEY: { path: layout.server.key, kind: 'private-key', of: 'XDS_SERVER_CERT' },
  });
  return ServerCredentials.createSsl(
    pem.XDS_CA,
    [{ cert_chain: pem.XDS_SERVER_CERT, private_key: pem.XDS_SERVER_KEY }],
    true,
  );
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
    this.server = new XdsServer({
      cache,
      logger: logger.child({ component: 'xds' }),
      registry,
      ackTimeoutMs: config.XDS_ACK_TIMEOUT_MS,
      // xDS is mTLS-only: a stream is served only the node its client certificate was issued
      // for (CN and SPIFFE URI SAN = node.id), never the node.id it merely claims.
      authorizeNode: (node, peer) => certificateNamesNode(node.id, peer.certificate),
    });
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
