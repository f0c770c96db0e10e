import 'reflect-metadata';
import { BadRequestException, type INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type KafkaOptions, ServerKafka, Transport } from '@nestjs/microservices';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ApiExceptionFilter } from '@edge/nest-common/http-errors';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { toApiResponse } from './common/api-error';
import { type ConsumerConfig } from './config/consumer.config';
import { KafkaAdminService } from './ingest/kafka-admin.service';
import { KafkaConsumerState } from './ingest/kafka-consumer-state';

/**
 * Nest's Kafka server, with the kafkajs consumer's events also followed by KafkaConsumerState
 * (registered before the consumer runs, so the first group join is seen; health reports a
 * consumer kafkajs gave up on).
 */
class ObservedServerKafka extends ServerKafka {
  constructor(
    options: Required<KafkaOptions>['options'],
    private readonly state: KafkaConsumerState,
  ) {
    super(options);
  }

  protected override registerConsumerEventListeners(): void {
    super.registerConsumerEventListeners();
    if (this.consumer !== null) this.state.watch(this.consumer);
  }
}

/** Nest's Kafka transport: binary values, manual commits (after the insert), from the start. */
export function kafkaOptions(config: ConsumerConfig): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: {
      postfixId: '',
      client: {
        clientId: config.KAFKA_CLIENT_ID,
        brokers: config.KAFKA_BROKERS,
        connectionTimeout: 2_000,
        retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 10 },
      },
      consumer: {
        groupId: config.KAFKA_GROUP_ID,
        allowAutoTopicCreation: false,
        sessionTimeout: 30_000,
        heartbeatInterval: 3_000,
        maxBytesPerPartition: 4 * 1024 * 1024,
      },
      subscribe: { fromBeginning: true },
      run: { autoCommit: false },
      parser: { keepBinary: true },
      // The dead-letter producer. Not idempotent: a broker that restarted without an idempotent
      // producer's state refuses it for good (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID),
      // and this producer cannot be replaced under Nest's server, so the dead-letter retry loop
      // would hold its partition forever. A dead-lettered record can be there twice anyway (a
      // redelivery before the commit); its source topic, partition and offset headers tell.
      producer: { idempotent: false, maxInFlightRequests: 1 },
    },
  };
}

/** Builds the hybrid app (HTTP + Kafka consumer), starts both. Used by main.ts and tests. */
export async function startConsumerApp(config: ConsumerConfig): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ApiExceptionFilter({ toResponse: toApiResponse }));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestException({
          message: 'Bad Request',
          status: 400,
          details: `InvalidQuery ${errors.map((e) => e.property).join(',')}`,
        }),
    }),
  );
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('edge audit log')
      .setDescription(
        'Audit records (edge.log.v1.AccessRecord) stored from Kafka. Call through the front proxy: the tenant comes from the authenticated identity.',
      )
      .setVersion('1')
      .addBasicAuth()
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, doc);
  app.enableShutdownHooks();
  await app.init();
  await app.get(KafkaAdminService).ensureTopics();
  app.connectMicroservice(
    {
      strategy: new ObservedServerKafka(kafkaOptions(config).options!, app.get(KafkaConsumerState)),
    },
    { inheritAppConfig: false },
  );
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  return app;
}
