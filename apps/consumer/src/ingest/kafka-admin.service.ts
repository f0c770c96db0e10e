import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { CONSUMER_CONFIG, type ConsumerConfig } from '../config/consumer.config';

/** Topic creation at start-up and the lag figure (committed offsets vs high watermarks). */
@Injectable()
export class KafkaAdminService implements OnApplicationShutdown {
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;

  constructor(@Inject(CONSUMER_CONFIG) private readonly config: ConsumerConfig) {}

  private client(): Promise<Admin> {
    this.connecting ??= (async () => {
      const admin = new Kafka({
        clientId: `${this.config.KAFKA_CLIENT_ID}-admin`,
        brokers: this.config.KAFKA_BROKERS,
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2_000,
        requestTimeout: 5_000,
      }).admin();
      try {
        await admin.connect();
      } catch (err) {
        this.connecting = undefined;
        throw err;
      }
      this.admin = admin;
      return admin;
    })();
    return this.connecting;
  }

  /** Creates the record topic and the dead-letter topic if missing. */
  async ensureTopics(): Promise<void> {
    const admin = await this.client();
    const existing = new Set(await admin.listTopics());
    const topics = [
      { topic: this.config.KAFKA_TOPIC, numPartitions: this.config.KAFKA_TOPIC_PARTITIONS },
      { topic: this.config.KAFKA_DEAD_LETTER_TOPIC, numPartitions: 1 },
    ].filter((t) => !existing.has(t.topic));
    if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: true });
  }

  /** Sum over partitions of high watermark minus the group's committed offset. */
  async lag(): Promise<number> {
    const admin = await this.client();
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(this.config.KAFKA_TOPIC),
      admin.fetchOffsets({
        groupId: this.config.KAFKA_GROUP_ID,
        topics: [this.config.KAFKA_TOPIC],
      }),
    ]);
    const done = new Map<number, bigint>();
    for (const t of committed)
      for (const p of t.partitions) done.set(p.partition, BigInt(p.offset));
    let lag = 0n;
    for (const p of ends) {
      const c = done.get(p.partition) ?? -1n;
      const start = c < 0n ? BigInt(p.low) : c;
      const d = BigInt(p.high) - start;
      if (d > 0n) lag += d;
    }
    return Number(lag);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
