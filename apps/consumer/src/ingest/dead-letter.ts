import { type KafkaMessage, type Producer } from 'kafkajs';

/** Headers of a dead-lettered record: why, and where it came from. */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  topic: 'x-dlq-source-topic',
  partition: 'x-dlq-source-partition',
  offset: 'x-dlq-source-offset',
} as const;

/** Sends the original bytes (key and value untouched) to the dead-letter topic. */
export async function sendToDeadLetter(
  producer: Producer,
  dlqTopic: string,
  source: { topic: string; partition: number; message: KafkaMessage },
  reason: string,
): Promise<void> {
  await producer.send({
    topic: dlqTopic,
    acks: -1,
    messages: [
      {
        key: source.message.key,
        value: source.message.value,
        headers: {
          [DLQ_HEADERS.reason]: reason,
          [DLQ_HEADERS.topic]: source.topic,
          [DLQ_HEADERS.partition]: String(source.partition),
          [DLQ_HEADERS.offset]: source.message.offset,
        },
      },
    ],
  });
}
