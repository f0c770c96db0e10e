import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { Registry } from 'prom-client';
import { typeOrmRootModule } from '@edge/nest-common/database';
import { MetricsController } from '@edge/nest-common/metrics';
import { LOGGER } from './common/logger';
import { CONSUMER_CONFIG, type ConsumerConfig } from './config/consumer.config';
import { MIGRATION_LOCK, typeOrmOptions } from './database/typeorm-options';
import { HealthController } from './health/health.controller';
import { ingestControllerFor } from './ingest/ingest.controller';
import { IngestService } from './ingest/ingest.service';
import { KafkaAdminService } from './ingest/kafka-admin.service';
import { KafkaConsumerState } from './ingest/kafka-consumer-state';
import { RecordStore } from './ingest/record-store';
import { ConsumerMetrics } from './metrics/consumer.metrics';
import { AdminRecordsController, RecordsController } from './records/records.controller';
import { RecordsService } from './records/records.service';

/** Headers that carry credentials: never logged. */
const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie'];

@Module({})
export class AppModule {
  static forRoot(config: ConsumerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            autoLogging: {
              ignore: (req) => ['/health', '/health/live', '/metrics'].includes(req.url ?? ''),
            },
          },
        }),
        typeOrmRootModule({
          options: typeOrmOptions(config),
          migrationLockId: MIGRATION_LOCK,
          connectMaxAttempts: config.DB_CONNECT_MAX_ATTEMPTS,
          connectRetryDelayMs: config.DB_CONNECT_RETRY_DELAY_MS,
        }),
        TerminusModule,
      ],
      controllers: [
        ingestControllerFor(config.KAFKA_TOPIC),
        RecordsController,
        AdminRecordsController,
        HealthController,
        MetricsController,
      ],
      providers: [
        { provide: CONSUMER_CONFIG, useValue: config },
        {
          provide: LOGGER,
          useValue: pino({ level: config.LOG_LEVEL, base: { service: 'consumer' } }),
        },
        { provide: Registry, useValue: new Registry() },
        KafkaAdminService,
        KafkaConsumerState,
        ConsumerMetrics,
        RecordStore,
        IngestService,
        RecordsService,
      ],
    };
  }
}
