import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraBackend, type KafkaInfo, type Started } from '../src';

describe('kafka (real)', () => {
  let kafka: Started<KafkaInfo>;
  beforeAll(async () => {
    kafka = await infraBackend().kafka();
  });
  afterAll(() => kafka?.stop());

  it('produces and consumes one message on an auto-created topic', async () => {
    const client = new Kafka({
      clientId: 'testkit-it',
      brokers: kafka.info.brokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = `it-${Date.now()}`;
    const producer = client.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'hello' }] });
    await producer.disconnect();

    const consumer = client.consumer({ groupId: `g-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      void consumer.run({
        eachMessage: ({ message }) => {
          clearTimeout(timer);
          resolve(message.value?.toString() ?? '');
          return Promise.resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(received).toBe('hello');
  });
});
