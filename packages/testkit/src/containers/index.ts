import { randomInt } from 'node:crypto';
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { canConnect, freePort, LOOPBACK, tcpExchange } from '../net';
import { envoyArgs, httpGet } from '../local/envoy';
import { metadataWorks } from '../local/kafka';
import { pgQuery, postgresUrl } from '../local/postgres';
import {
  nodeServiceReady,
  type NodeServiceInfo,
  type NodeServiceOptions,
} from '../local/node-service';
import type { InfraBackend, PartOptions, PostgresInfo, Started } from '../types';
import { imageName } from './engine';
import { containerLogDir, startContainer } from './part';

const PG_USER = 'postgres';
/** Where host files an app's env names are copied to in its container. */
const HOST_FILES = '/run/edge-host-files';
/** Where an Envoy container writes its stdout (a host directory mounted there). */
const ENVOY_OUT_DIR = '/var/log/edge-envoy';
const PG_PASSWORD = 'postgres';

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function noPersistence(kind: string, opts: PartOptions): void {
  if (opts.persistent) {
    throw new Error(
      `${kind}: persistent instances are for the local dev stack (local backend) only`,
    );
  }
}

/**
 * The same parts as containers of the locally built images (deploy/docker/build-images.sh),
 * started by testcontainers with host networking, each on its own loopback port. Tests see the
 * same `Started<Info>` as with the local backend. `tag` is the images' tag (default `local`).
 */
export function containersBackend(tag = 'local'): InfraBackend {
  return {
    kind: 'testcontainers',

    async postgres(opts = {}) {
      noPersistence('postgres', opts);
      const port = opts.port ?? (await freePort());
      const database = opts.database ?? 'edge';
      const info: PostgresInfo = {
        host: LOOPBACK,
        port,
        user: PG_USER,
        password: PG_PASSWORD,
        database,
        url: postgresUrl({ host: LOOPBACK, port, user: PG_USER, password: PG_PASSWORD, database }),
      };
      return startContainer(
        {
          name: opts.name ?? 'postgres',
          image: imageName('postgres', tag),
          env: {
            POSTGRES_PORT: String(port),
            POSTGRES_LISTEN: LOOPBACK,
            POSTGRES_USER: PG_USER,
            POSTGRES_PASSWORD: PG_PASSWORD,
            POSTGRES_DB: database,
            POSTGRES_FAST: '1',
          },
          what: 'accepting connections',
          ready: async () =>
            (await pgQuery(info, 'SELECT 1 FROM pg_database WHERE datname = $1', [database]))
              .rowCount === 1,
          timeoutMs: opts.startTimeoutMs ?? 60_000,
        },
        () => info,
      );
    },

    async redis(opts = {}) {
      noPersistence('redis', opts);
      const port = opts.port ?? (await freePort());
      return startContainer(
        {
          name: opts.name ?? 'redis',
          image: imageName('redis', tag),
          env: { REDIS_PORT: String(port), REDIS_LISTEN: LOOPBACK },
          what: 'answering PING',
          ready: async () => (await tcpExchange(port, 'PING\r\n')).startsWith('+PONG'),
          timeoutMs: opts.startTimeoutMs ?? 30_000,
        },
        () => ({ host: LOOPBACK, port, url: `redis://${LOOPBACK}:${port}` }),
      );
    },

    async kafka(opts = {}) {
      noPersistence('kafka', opts);
      const port = opts.port ?? (await freePort());
      const controllerPort = opts.controllerPort ?? (await freePort());
      const broker = await startContainer(
        {
          name: opts.name ?? 'kafka',
          image: imageName('kafka', tag),
          env: {
            KAFKA_PORT: String(port),
            KAFKA_CONTROLLER_PORT: String(controllerPort),
            KAFKA_LISTEN: LOOPBACK,
          },
          what: 'serving metadata',
          ready: () => metadataWorks(port),
          timeoutMs: opts.startTimeoutMs ?? 120_000,
          intervalMs: 250,
        },
        () => ({ brokers: [`${LOOPBACK}:${port}`] }),
      );
      // Outage tests: the broker stops and starts again on the same ports and data (its volume).
      return {
        info: broker.info,
        stop: () => broker.stop(),
        stopBroker: () => broker.stopProcess(),
        startBroker: () => broker.startProcess(),
      };
    },

    async envoy(opts) {
      if ((opts.configYaml === undefined) === (opts.configProto === undefined)) {
        throw new Error('envoy: give exactly one of configYaml and configProto');
      }
      const adminPort = opts.adminPort ?? (await freePort());
      // Envoy reads a `.pb` bootstrap as binary protobuf, anything else as YAML.
      const configFile = `/tmp/edge-testkit-envoy.${opts.configProto === undefined ? 'yaml' : 'pb'}`;
      const configContent =
        opts.configProto === undefined ? (opts.configYaml ?? '') : Buffer.from(opts.configProto);
      const readyPorts = opts.readyPorts ?? [];
      // Envoy's stdout (its access log) lands in a host file, as with the local backend.
      const outDir = mkdtempSync(join(containerLogDir(), `${opts.name ?? 'envoy'}-`));
      chmodSync(outDir, 0o777);
      const stdoutLogFile = join(outDir, 'stdout.log');
      return startContainer(
        {
          name: opts.name ?? 'envoy',
          image: imageName('envoy', tag),
          files: [{ content: configContent, target: configFile }],
          command: envoyArgs({
            configFile,
            adminPort,
            logFile: '/dev/stderr',
            baseId: randomInt(1, 2 ** 30),
            logLevel: opts.logLevel ?? 'warn',
            concurrency: opts.concurrency ?? 1,
          }),
          env: { ADMIN_PORT: String(adminPort), ENVOY_STDOUT_FILE: `${ENVOY_OUT_DIR}/stdout.log` },
          hostDirs: [{ source: outDir, target: ENVOY_OUT_DIR }],
          what: `LIVE on admin /ready${readyPorts.length ? ` with listeners ${readyPorts.join(', ')}` : ''}`,
          ready: async () => {
            const res = await httpGet(adminPort, '/ready');
            if (res.status !== 200 || res.body.trim() !== 'LIVE') return false;
            return (await Promise.all(readyPorts.map((p) => canConnect(p)))).every(Boolean);
          },
          timeoutMs: opts.startTimeoutMs ?? 60_000,
          intervalMs: 50,
        },
        () => ({ host: LOOPBACK, adminPort, stdoutLogFile }),
      );
    },

    async nodeService(opts: NodeServiceOptions): Promise<Started<NodeServiceInfo>> {
      if (!opts.image) {
        throw new Error(
          `${opts.name}: the testcontainers backend runs apps from images; pass image`,
        );
      }
      const image = imageName(opts.image, tag);
      // Files the service is pointed at (TLS certificates, CA bundles) exist on the host: they
      // are copied under HOST_FILES (not at their own path, whose parents, e.g. /root, the
      // image's user may not enter) and the variables name the copies.
      const hostFiles = [...new Set(Object.values(opts.env))].filter(
        (v) => isAbsolute(v) && isFile(v),
      );
      const env = Object.fromEntries(
        Object.entries(opts.env).map(([k, v]) => [k, hostFiles.includes(v) ? HOST_FILES + v : v]),
      );
      return startContainer(
        {
          name: opts.name,
          image,
          env: { NODE_ENV: 'test', ...env },
          hostFiles: hostFiles.map((f) => ({ source: f, target: HOST_FILES + f })),
          what: 'ready',
          ready: () => nodeServiceReady(opts),
          timeoutMs: opts.startTimeoutMs ?? 60_000,
        },
        (logFile, pid) => ({ name: opts.name, pid, logFile }),
      );
    },
  };
}
