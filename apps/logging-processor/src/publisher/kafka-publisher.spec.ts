// The publisher's recovery paths against a fake kafkajs producer (unit test): errors a real
// broker only gives in rare states (its producer state lost in a restart, a topic limit below
// the batch size). The real-Kafka paths are in test/kafka-publisher.int-spec.ts.
import { KafkaJSNonRetriableError, KafkaJSProtocolError, type Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Clock } from '../common/clock';
import { loadLoggingProcessorConfig } from '../config/logging-processor.config';
import { silentLogger } from '../logging/logger';
import { LoggingMetrics } from '../metrics/logging.metrics';
import { KafkaPublisher, kafkaErrorType } from './kafka-publisher.service';

type Send = (values: Buffer[]) => void;

/** What kafkajs throws when the broker answers a produce request with `type`. */
function protocolError(type: string): Error {
  const cause = new KafkaJSProtocolError(
    Object.assign(new Error(type), { type, code: 0, retriable: false }),
  );
  // kafkajs' retrier wraps it so (its type declarations omit the options).
  const NonRetriable = KafkaJSNonRetriableError as unknown as new (
    e: Error,
    o: { cause: Error },
  ) => Error;
  return new NonRetriable(cause, { cause });
}

/** Producers that hand each send to `send` (throwing = Kafka refused it); records every one. */
class FakePublisher extends KafkaPublisher {
  // Set by createProducer, which the base constructor calls before field initializers run.
  declare producers: number;
  readonly sent: Buffer[][] = [];
  send: Send = () => undefined;

  protected override createProducer(): Producer {
    this.producers = (this.producers ?? 0) + 1;
    const id = this.producers;
    return {
      events: { CONNECT: 'connect', DISCONNECT: 'disconnect' },
      on: () => () => undefined,
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      send: ({ messages }: { messages: { value: Buffer }[] }) => {
        const values = messages.map((m) => m.value);
        this.send(values);
        this.sent.push(values);
        return Promise.resolve([{ producerId: id }]);
      },
    } as unknown as Producer;
  }
}

function start(env: Record<string, string> = {}) {
  const config = loadLoggingProcessorConfig({
    PUBLISH_RETRY_INITIAL_MS: '10',
    PUBLISH_RETRY_MAX_MS: '20',
    BATCH_LINGER_MS: '0',
    ...env,
  });
  const p = new FakePublisher(config, silentLogger, new Clock());
  const registry = new Registry();
  const metrics = new LoggingMetrics(registry, () => p.stats());
  return { p, metrics, go: () => p.start(metrics) };
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 5_000;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const rec = (i: number, n = 10) => ({ key: 't', value: Buffer.alloc(n, i % 256) });
const count = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
  (await c.get()).values.reduce((s, v) => s + v.value, 0);

describe('kafkaErrorType', () => {
  it('finds the protocol error type under kafkajs wrappers, and nothing in other errors', () => {
    expect(kafkaErrorType(protocolError('UNKNOWN_PRODUCER_ID'))).toBe('UNKNOWN_PRODUCER_ID');
    expect(kafkaErrorType(new Error('ECONNREFUSED'))).toBeUndefined();
    expect(kafkaErrorType('x')).toBeUndefined();
  });
});

describe('KafkaPublisher recovery', () => {
  for (const type of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID']) {
    it(`${type}: a new producer sends the batch; nothing lost, the loop goes on`, async () => {
      const { p, metrics, go } = start();
      let refusals = 0;
      // The old producer is refused every time (what a broker without its state does).
      p.send = () => {
        if (p.producers === 1) {
          refusals++;
          throw protocolError(type);
        }
      };
      for (let i = 0; i < 5; i++) p.publish(rec(i));
      go();
      await until('the batch sent by a second producer', () => p.sent.flat().length === 5);
      expect(refusals).toBe(1);
      expect(p.producers).toBe(2);
      expect(await count(metrics.producerResets)).toBe(1);
      p.publish(rec(9));
      await until('a later record', () => p.sent.flat().length === 6);
      expect(p.stats().buffered).toBe(0);
      await p.flushAndStop();
    });
  }

  it('a batch Kafka refuses as too large is split; a single record it refuses is dropped', async () => {
    const { p, metrics, go } = start({ BATCH_MAX_BYTES: '10000' });
    // The broker's limit: 2,500 bytes per request.
    p.send = (values) => {
      if (values.reduce((n, v) => n + v.length, 0) > 2_500)
        throw protocolError('MESSAGE_TOO_LARGE');
    };
    for (let i = 0; i < 8; i++) p.publish(rec(i, 1_000));
    p.publish(rec(100, 4_000));
    p.publish(rec(101, 1_000));
    go();
    await until('every record that fits sent', () => p.sent.flat().length === 9);
    expect(p.sent.flat().every((v) => v.length === 1_000)).toBe(true);
    // In order: the split keeps the buffer's order.
    expect(p.sent.flat().map((v) => v[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 101]);
    expect((await metrics.dropped.get()).values).toEqual([
      expect.objectContaining({ labels: { reason: 'too_large' }, value: 1 }),
    ]);
    expect(p.producers).toBe(1);
    await p.flushAndStop();
  });

  it('other errors (Kafka down) keep the batch and the producer, and retry', async () => {
    const { p, go } = start();
    let fail = 3;
    p.send = () => {
      if (fail-- > 0) throw new Error('Connection error: connect ECONNREFUSED');
    };
    for (let i = 0; i < 3; i++) p.publish(rec(i));
    go();
    await until('the batch after three failures', () => p.sent.flat().length === 3);
    expect(p.producers).toBe(1);
    await p.flushAndStop();
  });
});
