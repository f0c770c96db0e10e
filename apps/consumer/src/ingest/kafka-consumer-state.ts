import { Inject, Injectable } from '@nestjs/common';
import { type Consumer } from 'kafkajs';
import { LOGGER, type AppLogger } from '../common/logger';

/**
 * - `starting`: not yet in the group (first join, or after a restart).
 * - `consuming`: a member of the group with its partitions.
 * - `restarting`: kafkajs crashed on a retriable error (Kafka down, the coordinator loading)
 *   and starts the consumer again by itself.
 * - `failed`: kafkajs crashed on an error it does not retry and will not start again: nothing is
 *   consumed until the process restarts, so health says 503.
 */
export type KafkaConsumerStatus = 'starting' | 'consuming' | 'restarting' | 'failed';

/** The Kafka consumer's state for health, from kafkajs' instrumentation events. */
@Injectable()
export class KafkaConsumerState {
  private current: KafkaConsumerStatus = 'starting';
  private lastError: string | undefined;
  private crashes = 0;

  constructor(@Inject(LOGGER) private readonly logger: AppLogger) {}

  get status(): KafkaConsumerStatus {
    return this.current;
  }

  /** For health: the status, and the last crash's error name (never a payload). */
  view(): { status: KafkaConsumerStatus; crashes: number; last_error?: string } {
    return {
      status: this.current,
      crashes: this.crashes,
      ...(this.lastError === undefined ? {} : { last_error: this.lastError }),
    };
  }

  /** Follows one kafkajs consumer (Nest's Kafka server's, after it started). */
  watch(consumer: Pick<Consumer, 'on' | 'events'>): void {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.current !== 'consuming') {
        this.logger.info({ event: 'kafka_group_joined' }, 'consuming the record topic');
      }
      this.current = 'consuming';
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.crashes++;
      const name = payload.error?.name ?? 'Error';
      this.lastError = name;
      this.current = payload.restart ? 'restarting' : 'failed';
      const fields = { event: 'kafka_consumer_crashed', error: name, restart: payload.restart };
      if (payload.restart) {
        this.logger.warn(fields, 'Kafka consumer crashed; kafkajs restarts it');
      } else {
        this.logger.error(
          { ...fields, err: payload.error?.message },
          'Kafka consumer crashed on an error kafkajs does not retry; nothing is consumed until the process restarts',
        );
      }
    });
  }
}
