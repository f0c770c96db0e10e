// The consumer against a real Kafka and Postgres (testkit), started with its own start function:
// a record delivered twice is stored once; a record that fails to decode or validate lands in the
// dead-letter topic with its reason and original bytes, and consumption goes on; a restart
// (same group) stores nothing twice.
import { randomUUID } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import { logV1 } from '@edge/protos';
import {
  freePort,
  infraBackend,
  type PostgresInfo,
  type Started,
  type StartedKafka,
} from '@edge/testkit';
import { Kafka, logLevel, type KafkaMessage, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsumerApp } from '../src/bootstrap';
import { type ConsumerConfig, loadConsumerConfig } from '../src/config/consumer.config';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let pg: Started<PostgresInfo>;
let kafka: StartedKafka;
let producer: Producer;
let client: Kafka;
let db: Client;
let config: ConsumerConfig;
let app: INestApplication | undefined;

const TOPIC = 'int.access-log.v1';
const DLQ = 'int.access-log.v1.dlq';

beforeAll(async () => {
  [pg, kafka] = await Promise.all([
    infraBackend().postgres({ name: 'consumer-int-pg' }),
    infraBackend().kafka({ name: 'consumer-int-kafka' }),
  ]);
  config = loadConsumerConfig({
    PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    DATABASE_URL: pg.info.url,
    KAFKA_BROKERS: kafka.info.brokers.join(','),
    KAFKA_TOPIC: TOPIC,
    KAFKA_DEAD_LETTER_TOPIC: DLQ,
    KAFKA_GROUP_ID: `int-${randomUUID()}`,
  });
  app = await startConsumerApp(config);
  client = new Kafka({ brokers: kafka.info.brokers, logLevel: logLevel.NOTHING });
  producer = client.producer();
  await producer.connect();
  db = new Client({ connectionString: pg.info.url });
  await db.connect();
}, 240_000);

afterAll(async () => {
  await producer?.disconnect();
  await db?.end();
  await app?.close();
  await kafka?.stop();
  await pg?.stop();
});

function record(requestId: string, over: Partial<logV1.AccessRecord> = {}): Buffer {
  const now = new Date();
  const bytes = logV1.AccessRecord.encode(
    logV1.AccessRecord.fromPartial({
      schemaVersion: 1,
      requestId,
      startTime: now,
      endTime: now,
      method: 'GET',
      path: '/api/v0/echo',
      status: 200,
      tenant: 'tenant-int',
      route: 'api',
      processors: ['logging', 'authn'],
      ...over,
    }),
  ).finish();
  return Buffer.from(bytes);
}

async function rows(ids: readonly string[]): Promise<{ request_id: string; status: number }[]> {
  const r = await db.query<{ request_id: string; status: number }>(
    'SELECT request_id, status FROM access_records WHERE request_id = ANY($1) ORDER BY request_id',
    [ids],
  );
  return r.rows;
}

async function dlqMessages(until_: (m: KafkaMessage[]) => boolean): Promise<KafkaMessage[]> {
  const consumer = client.consumer({ groupId: `int-dlq-${randomUUID()}` });
  const msgs: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: DLQ, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        msgs.push(message);
        return Promise.resolve();
      },
    });
    await until('dead-lettered messages', () => Promise.resolve(until_(msgs) ? true : undefined));
    return msgs;
  } finally {
    await consumer.disconnect();
  }
}

describe('consumer on a real Kafka and Postgres', () => {
  it('a record delivered twice (and twice in one batch) is stored once', async () => {
    const a = `int-a-${randomUUID()}`;
    const b = `int-b-${randomUUID()}`;
    await producer.send({
      topic: TOPIC,
      messages: [
        { key: 'tenant-int', value: record(a) },
        { key: 'tenant-int', value: record(a) },
        { key: 'tenant-int', value: record(b, { status: 401 }) },
      ],
    });
    await producer.send({ topic: TOPIC, messages: [{ key: 'tenant-int', value: record(a) }] });
    const stored = await until('both records', async () => {
      const r = await rows([a, b]);
      return r.length === 2 ? r : undefined;
    });
    expect(stored.map((r) => r.status).sort()).toEqual([200, 401]);
    // The redelivery came after: still one row.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await rows([a])).toHaveLength(1);
  });

  it('undecodable and invalid records go to the dead-letter topic with the original bytes; the next one is stored', async () => {
    const garbage = Buffer.concat([
      Buffer.from([0x0a, 0xff, 0xff, 0xff]),
      Buffer.from(randomUUID()),
    ]);
    const wrongVersion = record(`int-v-${randomUUID()}`, { schemaVersion: 7 });
    const badStatus = record(`int-s-${randomUUID()}`, { status: 1234 });
    const after = `int-after-${randomUUID()}`;
    await producer.send({
      topic: TOPIC,
      messages: [
        { key: 'x', value: garbage },
        { key: 'x', value: wrongVersion },
        { key: 'x', value: badStatus },
        { key: 'tenant-int', value: record(after) },
      ],
    });
    const dlq = await dlqMessages((m) => m.filter((x) => x.value !== null).length >= 3);
    const find = (bytes: Buffer) => dlq.find((x) => x.value?.equals(bytes) === true);
    expect(find(garbage)?.headers?.['x-dlq-reason']?.toString()).toMatch(/^DecodeError/);
    expect(find(wrongVersion)?.headers?.['x-dlq-reason']?.toString()).toBe(
      'UnsupportedSchemaVersion 7',
    );
    expect(find(badStatus)?.headers?.['x-dlq-reason']?.toString()).toBe('InvalidStatus');
    expect(find(garbage)?.headers?.['x-dlq-source-topic']?.toString()).toBe(TOPIC);
    await until('the record after the bad ones', async () =>
      (await rows([after])).length === 1 ? true : undefined,
    );
  });

  it('restarted with the same group: what was committed is not stored again, new records are', async () => {
    const before = `int-before-${randomUUID()}`;
    await producer.send({ topic: TOPIC, messages: [{ key: 't', value: record(before) }] });
    await until('stored before the restart', async () =>
      (await rows([before])).length === 1 ? true : undefined,
    );
    const count = async () =>
      Number(
        (await db.query<{ n: string }>('SELECT count(*) AS n FROM access_records')).rows[0]!.n,
      );
    const n0 = await count();
    await app!.close();
    app = undefined;
    const later = `int-later-${randomUUID()}`;
    await producer.send({ topic: TOPIC, messages: [{ key: 't', value: record(later) }] });
    app = await startConsumerApp(config);
    await until('the record sent while it was down', async () =>
      (await rows([later])).length === 1 ? true : undefined,
    );
    expect(await count()).toBe(n0 + 1);
  }, 120_000);

  it('Kafka stopped: health stays 200 and says restarting; consuming again when it returns', async () => {
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${config.PORT}/health`);
      const body = (await res.json()) as { info?: { kafka?: { consumer?: string } } };
      return { status: res.status, consumer: body.info?.kafka?.consumer };
    };
    await until('consuming', async () =>
      (await health()).consumer === 'consuming' ? true : undefined,
    );
    await kafka.stopBroker();
    try {
      // kafkajs gives up its retries (about 30 s), crashes and restarts the consumer by itself.
      const down = await until(
        'the consumer restarting',
        async () => {
          const h = await health();
          return h.consumer === 'restarting' ? h : undefined;
        },
        90_000,
      );
      expect(down.status).toBe(200);
      // Liveness too: Kafka down is waited out, not restarted.
      expect((await fetch(`http://127.0.0.1:${config.PORT}/health/live`)).status).toBe(200);
    } finally {
      await kafka.startBroker();
    }
    const after = `int-after-outage-${randomUUID()}`;
    await producer.send({ topic: TOPIC, messages: [{ key: 't', value: record(after) }] });
    await until(
      'a record sent after the outage',
      async () => ((await rows([after])).length === 1 ? true : undefined),
      120_000,
    );
    expect(await health()).toEqual({ status: 200, consumer: 'consuming' });
  }, 300_000);
});
