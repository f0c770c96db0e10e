import { createEchoApp } from './app';
import { loadEchoConfig } from './config/echo.config';

async function main(): Promise<void> {
  const config = loadEchoConfig();
  const app = await createEchoApp(config);
  await app.listen(config.PORT, config.HOST);
  console.log(
    JSON.stringify({ level: 'info', msg: 'echo listening', host: config.HOST, port: config.PORT }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
