import { startConsumerApp } from './bootstrap';
import { loadConsumerConfig } from './config/consumer.config';

async function main(): Promise<void> {
  const config = loadConsumerConfig();
  // kafkajs 2.2.4 schedules a negative timer in its request queue; Node 24 clamps it to 1 ms
  // and prints TimeoutNegativeWarning. Harmless: kept out of stderr; other warnings still print.
  const printWarning = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name === 'TimeoutNegativeWarning') return;
    for (const l of printWarning) l.call(process, w);
  });
  await startConsumerApp(config);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `consumer: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
