import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { LoggingMetrics } from '../metrics/logging.metrics';
import { KafkaPublisher } from '../publisher/kafka-publisher.service';
import { MERGE_COUNTERS, type MergeCounters, RecordMerger } from '../record/record-merger';
import { AccessLogServiceServer } from './access-log-service.server';
import { AccessLogProcessor } from './access-log.processor';
import { RECORD_SINK } from './record-sink';

/**
 * The processor, Envoy's access-log service, the merger that makes one record per request from
 * both, the Kafka publisher it hands records to, and their metrics.
 */
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
      provide: MERGE_COUNTERS,
      inject: [LoggingMetrics],
      useFactory: (m: LoggingMetrics): MergeCounters => ({
        recorded: (source) => m.recorded.labels(source).inc(),
        late: (source) => m.lateHalves.labels(source).inc(),
      }),
    },
    RecordMerger,
    AccessLogServiceServer,
    AccessLogProcessor,
  ],
  exports: [AccessLogProcessor, KafkaPublisher, RECORD_SINK, LoggingMetrics, RecordMerger],
})
export class AccessLogModule {}
