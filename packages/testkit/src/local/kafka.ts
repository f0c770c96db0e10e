import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { LOOPBACK, canConnect, freePort } from '../net';
import { runToCompletion, waitUntilReady } from '../process';
import { ensureTemplate } from '../template';
import type { KafkaInfo, KafkaOptions, StartedKafka } from '../types';
import type { ManagedProcess } from '../process';
import { startedWhenReady, type LocalContext } from './instance';

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (what `random-uuid` prints).
 * The top bit of the first byte is cleared so the id never starts with `-`: `kafka-storage
 * format -t -abc…` would read it as an option and fail (1 run in 32 did), which is also why
 * Kafka's own `Uuid.randomUuid` never yields such an id.
 */
export function newClusterId(bytes: Buffer = randomBytes(16)): string {
  const b = Buffer.from(bytes);
  b[0] = b[0]! & 0x7f;
  return b.toString('base64url');
}

/** server.properties for a single-node combined broker+controller on 127.0.0.1. */
export function kafkaServerProperties(opts: {
  port: number;
  controllerPort: number;
  logDir: string;
}): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${LOOPBACK}:${opts.controllerPort}`,
    listeners: `PLAINTEXT://${LOOPBACK}:${opts.port},CONTROLLER://${LOOPBACK}:${opts.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${LOOPBACK}:${opts.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': opts.logDir,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'auto.create.topics.enable': true,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'num.network.threads': 2,
    'num.io.threads': 2,
  };
  return (
    Object.entries(props)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('\n') + '\n'
  );
}

/** log4j2 config: everything to stdout (the log file); INFO so startup problems are visible. */
export const KAFKA_LOG4J2 = `status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.config.name = org.apache.kafka.common.config
logger.config.level = WARN
`;

/**
 * JVM flags tuned for quick start and a small footprint (tests, dev). scripts/infra/setup.sh
 * records the CDS archive with the same flags; keep the two lists equal.
 */
export function kafkaJvmArgs(log4jFile: string, cdsArchive = ''): string[] {
  return [
    ...(cdsArchive ? [`-XX:SharedArchiveFile=${cdsArchive}`] : []),
    '-Xmx512m',
    '-Xms128m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jFile}`,
  ];
}

export async function metadataWorks(port: number): Promise<boolean> {
  if (!(await canConnect(port))) return false;
  const admin = new Kafka({
    clientId: 'edge-testkit-readiness',
    brokers: [`${LOOPBACK}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function startKafka(
  ctx: LocalContext,
  opts: KafkaOptions = {},
): Promise<StartedKafka> {
  const dir = ctx.dataDir('kafka', opts);
  const label = ctx.label('kafka', dir);
  const port = opts.port ?? (await freePort());
  const controllerPort = opts.controllerPort ?? (await freePort());
  const logDir = join(dir.path, 'kraft-logs');
  const propsFile = join(dir.path, 'server.properties');
  const log4jFile = join(dir.path, 'log4j2.properties');
  const logFile = join(dir.path, 'kafka.log');
  // Rewritten on every start so a persistent instance picks up port changes.
  writeFileSync(propsFile, kafkaServerProperties({ port, controllerPort, logDir }));
  writeFileSync(log4jFile, KAFKA_LOG4J2);
  const classpath = join(ctx.tools.kafkaLibs, '*');
  const cds = ctx.tools.kafkaCdsArchive;
  const jvm = kafkaJvmArgs(log4jFile, cds && existsSync(cds) ? cds : '');

  if (!existsSync(join(logDir, 'meta.properties'))) {
    // Format once per Kafka version, then copy: a JVM start (~1 s) saved per instance. The
    // formatted dir holds no ports or paths; copies share the cluster id, which is harmless
    // for independent single-node clusters.
    const version = ctx.tools.versions.kafka || 'unknown';
    const template = await ensureTemplate(ctx.cacheRoot, `kafka-${version}`, async (tmp) => {
      const tmpProps = join(tmp, 'server.properties');
      writeFileSync(
        tmpProps,
        kafkaServerProperties({ port, controllerPort, logDir: join(tmp, 'kraft-logs') }),
      );
      await runToCompletion(ctx.tools.setprivBin, {
        label: `${label} storage format`,
        command: ctx.tools.javaBin,
        args: [
          ...jvm,
          '-cp',
          classpath,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          newClusterId(),
          '-c',
          tmpProps,
        ],
        logFile,
      });
    });
    await runToCompletion(ctx.tools.setprivBin, {
      label: `${label} copy template`,
      command: 'cp',
      args: ['-a', join(template, 'kraft-logs'), logDir],
      logFile,
    });
  }

  const spawnBroker = (): ManagedProcess =>
    ctx.spawn({
      label,
      command: ctx.tools.javaBin,
      args: [...jvm, '-cp', classpath, 'kafka.Kafka', propsFile],
      logFile,
      stopTimeoutMs: 15_000,
    });
  const ready = (p: ManagedProcess) =>
    waitUntilReady(
      p,
      'serving metadata',
      () => metadataWorks(port),
      opts.startTimeoutMs ?? 60_000,
      100,
    );
  const first = spawnBroker();
  const info: KafkaInfo = { brokers: [`${LOOPBACK}:${port}`] };
  const started = await startedWhenReady(info, first, dir, () => ready(first));
  // Outage tests: the broker process stops and starts again on the same ports and data dir.
  let current: ManagedProcess | undefined = first;
  return {
    info,
    stop: async () => {
      await current?.stop();
      await started.stop();
    },
    stopBroker: async () => {
      await current?.stop();
      current = undefined;
    },
    startBroker: async () => {
      if (current !== undefined) return;
      const p = spawnBroker();
      try {
        await ready(p);
      } catch (err) {
        await p.stop().catch(() => undefined);
        throw err;
      }
      current = p;
    },
  };
}
