import { EventEmitter } from 'node:events';
import { type Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaConsumerState } from './kafka-consumer-state';

/** A kafkajs consumer's instrumentation events, by hand. */
function fakeConsumer() {
  const emitter = new EventEmitter();
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' },
    on: (event: string, listener: (e: unknown) => void) => {
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    },
  } as unknown as Pick<Consumer, 'on' | 'events'>;
  return {
    consumer,
    join: () => emitter.emit('consumer.group_join', { payload: {} }),
    crash: (name: string, message: string, restart: boolean) =>
      emitter.emit('consumer.crash', {
        payload: { error: Object.assign(new Error(message), { name }), restart },
      }),
  };
}

function logger() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const log =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, fields, msg });
    };
  return {
    lines,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
  };
}

describe('KafkaConsumerState', () => {
  it('starting → consuming → restarting (retriable crash) → consuming', () => {
    const { lines, logger: l } = logger();
    const state = new KafkaConsumerState(l);
    const c = fakeConsumer();
    state.watch(c.consumer);
    expect(state.status).toBe('starting');
    c.join();
    expect(state.status).toBe('consuming');
    c.crash('KafkaJSNumberOfRetriesExceeded', 'connect ECONNREFUSED', true);
    expect(state.view()).toEqual({
      status: 'restarting',
      crashes: 1,
      last_error: 'KafkaJSNumberOfRetriesExceeded',
    });
    expect(lines.at(-1)?.level).toBe('warn');
    c.join();
    expect(state.status).toBe('consuming');
  });

  it('a crash kafkajs does not restart from is failed, logged at error', () => {
    const { lines, logger: l } = logger();
    const state = new KafkaConsumerState(l);
    const c = fakeConsumer();
    state.watch(c.consumer);
    c.join();
    c.crash('KafkaJSNonRetriableError', 'Not authorized to access group', false);
    expect(state.status).toBe('failed');
    expect(lines.at(-1)).toMatchObject({
      level: 'error',
      fields: { event: 'kafka_consumer_crashed', restart: false },
    });
  });
});
