// The Kafka publisher against a real Kafka (testkit): batches keyed by tenant, in order per key;
// Kafka stopped: records wait in the buffer (health says unreachable), nothing lost when it
// returns; beyond the bound records are dropped and counted; shutdown flushes the buffer.
import { randomUUID } from 'node:crypto';
import { infraBackend, type StartedKafka } from '@edge/testkit';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock } from '../src/common/clock';
import { loadLoggingProcessorConfig } from '../src/config/logging-processor.config';
import { silentLogger } from '../src/logging/logger';
import { LoggingMetrics } from '../src/metrics/logging.metrics';
import { KafkaPublisher } from '../src/publisher/kafka-publisher.service';

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let kafka: StartedKafka;
let client: Kafka;

beforeAll(async () => {
  kafka = await infraBackend().kafka({ name: 'logging-int-kafka' });
  client = new Kafka({ brokers: kafka.info.brokers, logLevel: logLevel.NOTHING });
}, 180_000);

afterAll(async () => {
  await kafka?.stop();
});

/** A publisher on a fresh topic (created first, so a reader can subscribe at once). */
async function publisher(
  env: Record<string, string> = {},
  configEntries: { name: string; value: string }[] = [],
) {
  const topic = `int-${randomUUID()}`;
  const admin = client.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, configEntries }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  const config = loadLoggingProcessorConfig({
    KAFKA_BROKERS: kafka.info.brokers.join(','),
    KAFKA_TOPIC: topic,
    PUBLISH_RETRY_INITIAL_MS: '50',
    PUBLISH_RETRY_MAX_MS: '500',
    ...env,
  });
  const p = new KafkaPublisher(config, silentLogger, new Clock());
  const registry = new Registry();
  const metrics = new LoggingMetrics(registry, () => p.stats());
  p.start(metrics);
  const dropped = async () =>
    (await metrics.dropped.get()).values.reduce((sum, v) => sum + v.value, 0);
  return { p, topic, dropped, metrics };
}

/** Every message of a topic, read from the beginning until `n` are there. */
async function readTopic(topic: string, n: number): Promise<KafkaMessage[]> {
  const consumer = client.consumer({ groupId: `int-reader-${randomUUID()}` });
  const msgs: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        msgs.push(message);
        return Promise.resolve();
      },
    });
    await until(`${n} messages on ${topic}`, () => msgs.length >= n);
    // Nothing more than expected arrives (a duplicate would show up here).
    await new Promise((r) => setTimeout(r, 1_000));
    return msgs;
  } finally {
    await consumer.disconnect();
  }
}

const rec = (tenant: string, i: number) => ({
  key: tenant,
  value: Buffer.from(`${tenant}:${String(i).padStart(5, '0')}`),
});

describe('KafkaPublisher on a real Kafka', () => {
  it('publishes every record once, keyed by tenant, in order per tenant', async () => {
    const { p, topic } = await publisher({ BATCH_MAX_RECORDS: '100' });
    for (let i = 0; i < 500; i++) p.publish(rec(i % 2 === 0 ? 'ta' : 'tb', i));
    const msgs = await readTopic(topic, 500);
    await p.flushAndStop();
    expect(msgs).toHaveLength(500);
    for (const t of ['ta', 'tb']) {
      const mine = msgs.filter((m) => m.key?.toString() === t).map((m) => m.value!.toString());
      expect(mine).toHaveLength(250);
      expect(mine).toEqual([...mine].sort());
    }
  }, 120_000);

  it('Kafka stopped: records wait, health says unreachable, none lost when it returns', async () => {
    const { p, topic, dropped } = await publisher({
      KAFKA_REQUEST_TIMEOUT_MS: '1000',
      BATCH_MAX_RECORDS: '50', // one batch in flight, the rest waits in the buffer
    });
    p.publish(rec('t', 0));
    await until('the first record published', () => p.stats().buffered === 0 && p.kafkaReachable());
    await kafka.stopBroker();
    try {
      for (let i = 1; i <= 300; i++) p.publish(rec('t', i));
      await until('Kafka seen unreachable', () => !p.kafkaReachable());
      expect(p.stats().buffered).toBeGreaterThanOrEqual(250);
    } finally {
      await kafka.startBroker();
    }
    await until('the buffer drained', () => p.stats().buffered === 0, 120_000);
    const msgs = await readTopic(topic, 301);
    await p.flushAndStop();
    expect(new Set(msgs.map((m) => m.value!.toString())).size).toBe(301);
    expect(msgs).toHaveLength(301);
    expect(await dropped()).toBe(0);
  }, 240_000);

  it('beyond the bound records are dropped and counted; the process goes on', async () => {
    const { p, topic, dropped } = await publisher({
      BUFFER_MAX_RECORDS: '50',
      BATCH_MAX_RECORDS: '10',
    });
    await kafka.stopBroker();
    try {
      for (let i = 0; i < 80; i++) p.publish(rec('t', i));
      // Up to one batch is in flight (out of the buffer): at least 20 of the 80 are refused.
      expect(await dropped()).toBeGreaterThanOrEqual(20);
      expect(p.stats().buffered).toBeLessThanOrEqual(50);
    } finally {
      await kafka.startBroker();
    }
    const kept = 80 - (await dropped());
    const msgs = await readTopic(topic, kept);
    await p.flushAndStop();
    expect(msgs).toHaveLength(kept);
  }, 240_000);

  it('a topic limit below the batch size: batches are split, a record over it is dropped', async () => {
    const { p, topic, metrics } = await publisher({ BATCH_LINGER_MS: '200' }, [
      { name: 'max.message.bytes', value: '20000' },
    ]);
    const big = (tenant: string, i: number, n: number) => ({
      key: tenant,
      value: Buffer.concat([rec(tenant, i).value, Buffer.alloc(n - 8, 0x2e)]),
    });
    // 60 records of 3 kB to one partition (one batch of 180 kB, nine times the limit), one
    // of 30 kB among them.
    for (let i = 0; i < 30; i++) p.publish(big('t', i, 3_000));
    p.publish(big('t', 999, 30_000));
    for (let i = 30; i < 60; i++) p.publish(big('t', i, 3_000));
    const msgs = await readTopic(topic, 60);
    await p.flushAndStop();
    expect(msgs).toHaveLength(60);
    const ids = msgs.map((m) => m.value!.subarray(0, 7).toString());
    expect(ids).toEqual(Array.from({ length: 60 }, (_, i) => rec('t', i).value.toString()));
    const dropped = (await metrics.dropped.get()).values;
    expect(dropped).toEqual([
      expect.objectContaining({ labels: { reason: 'too_large' }, value: 1 }),
    ]);
  }, 120_000);

  it('shutdown flushes what is buffered', async () => {
    const { p, topic, dropped } = await publisher({
      BATCH_LINGER_MS: '5000',
      BATCH_MAX_RECORDS: '1000',
    });
    for (let i = 0; i < 120; i++) p.publish(rec('t', i));
    expect(p.stats().buffered).toBe(120); // lingering: nothing sent yet
    await p.flushAndStop();
    expect(await dropped()).toBe(0);
    expect(await readTopic(topic, 120)).toHaveLength(120);
    // After shutdown a record is refused and counted, never thrown.
    p.publish(rec('t', 999));
    expect(await dropped()).toBe(1);
  }, 120_000);
});
