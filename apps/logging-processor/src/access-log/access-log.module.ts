import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { LoggingMetrics } from '../metrics/logging.metrics';
import { KafkaPublisher } from '../publisher/kafka-publisher.service';
import { AccessLogProcessor, RECORD_COUNTER } from './access-log.processor';
import { RECORD_SINK } from './record-sink';

/** The processor, the Kafka publisher it hands records to, and their metrics. */
@Module({
  providers: [
    KafkaPublisher,
    { provide: RECORD_SINK, useExisting: KafkaPublisher },
    {
      provide: LoggingMetrics,
      inject: [Registry, KafkaPublisher],
      useFactory: (registry: Registry, publisher: KafkaPublisher) => {
        const metrics = new LoggingMetrics(registry, () => publisher.stats());
        publisher.start(metrics);
        return metrics;
      },
    },
    {
      provide: RECORD_COUNTER,
      inject: [LoggingMetrics],
      useFactory: (m: LoggingMetrics) => m.recorded,
    },
    AccessLogProcessor,
  ],
  exports: [AccessLogProcessor, KafkaPublisher, RECORD_SINK, RECORD_COUNTER, LoggingMetrics],
})
export class AccessLogModule {}
