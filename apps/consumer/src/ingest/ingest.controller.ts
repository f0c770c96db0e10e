import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { CONSUMER_CONFIG, type ConsumerConfig } from '../config/consumer.config';
import { LOGGER, type AppLogger } from '../common/logger';
import { ConsumerMetrics } from '../metrics/consumer.metrics';
import { sendToDeadLetter } from './dead-letter';
import { IngestService } from './ingest.service';
import { decodeRecord } from './record-decoder';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The Kafka event handler for the record topic (Nest's Kafka transport, one message at a
 * time per partition, offsets committed by IngestService after the insert). The topic comes
 * from config, so the controller class is made for it.
 */
export function ingestControllerFor(topic: string): Type {
  @Controller()
  class IngestController {
    constructor(
      @Inject(IngestService) private readonly ingest: IngestService,
      @Inject(CONSUMER_CONFIG) private readonly config: ConsumerConfig,
      @Inject(ConsumerMetrics) private readonly metrics: ConsumerMetrics,
      @Inject(LOGGER) private readonly logger: AppLogger,
    ) {}

    @EventPattern(topic)
    async onRecord(_data: unknown, @Ctx() ctx: KafkaContext): Promise<void> {
      const message = ctx.getMessage();
      const partition = ctx.getPartition();
      const decoded = decodeRecord(message.value, partition, message.offset);
      if (!decoded.ok) {
        const reason = decoded.reason;
        // Never stops the consumer: retried until the dead-letter topic takes it.
        for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
          try {
            await sendToDeadLetter(
              ctx.getProducer(),
              this.config.KAFKA_DEAD_LETTER_TOPIC,
              { topic: ctx.getTopic(), partition, message },
              reason,
            );
            break;
          } catch (err) {
            this.logger.warn(
              { event: 'dead_letter_failed', err: (err as Error).message },
              'dead-letter publish failed; retrying',
            );
            await sleep(delay);
            await ctx
              .getHeartbeat()()
              .catch(() => undefined);
          }
        }
        this.metrics.deadLettered.labels(reason.split(' ')[0] ?? reason).inc();
        this.logger.warn(
          { event: 'dead_lettered', reason, partition, offset: message.offset },
          'record sent to the dead-letter topic',
        );
      }
      await this.ingest.add(
        {
          row: decoded.ok ? decoded.row : undefined,
          topic: ctx.getTopic(),
          partition,
          offset: message.offset,
        },
        ctx.getConsumer(),
        ctx.getHeartbeat(),
      );
    }
  }
  return IngestController;
}
