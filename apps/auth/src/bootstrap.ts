import 'reflect-metadata';
import {
  ConsoleLogger,
  type INestApplication,
  type LogLevel,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type GrpcOptions, Transport } from '@nestjs/microservices';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { authGrpcPackageDefinition } from '@edge/auth-contract';
import { ApiExceptionFilter, bodyParserErrorHandler } from '@edge/nest-common/http-errors';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { bodyParserErrorResponse, toApiResponse, WWW_AUTHENTICATE } from './common/api-error';
import { type AuthConfig } from './config/config';
import { grpcServerCredentials, readServerTls, type ServerTls } from './tls/server-tls';

/**
 * The Nest gRPC transport options: edge.auth.v1 and grpc.health.v1 on GRPC_PORT, served from
 * the generated (ts-proto) service definitions of @edge/auth-contract: no .proto file is loaded
 * at run time and replies are encoded by the generated code, as the processor decodes them.
 */
export function grpcOptions(
  config: Pick<AuthConfig, 'HOST' | 'GRPC_PORT'>,
  tls?: ServerTls,
): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      url: `${config.HOST}:${config.GRPC_PORT}`,
      package: ['edge.auth.v1', 'grpc.health.v1'],
      packageDefinition: authGrpcPackageDefinition(),
      // mTLS when TLS is configured; otherwise Nest binds plaintext (loopback by default).
      ...(tls !== undefined ? { credentials: grpcServerCredentials(tls) } : {}),
    },
  };
}

/** Nest's console levels at or above a pino level (used only until pino takes over). */
export function nestLogLevels(level: AuthConfig['LOG_LEVEL']): LogLevel[] {
  const order: [AuthConfig['LOG_LEVEL'], LogLevel][] = [
    ['trace', 'verbose'],
    ['debug', 'debug'],
    ['info', 'log'],
    ['warn', 'warn'],
    ['error', 'error'],
    ['fatal', 'fatal'],
  ];
  const from = order.findIndex(([l]) => l === level);
  return order.slice(Math.max(0, from)).map(([, n]) => n);
}

/** Builds the hybrid app (HTTP + gRPC), starts both and returns it. Used by main.ts and tests. */
export async function startApp(config: AuthConfig): Promise<INestApplication> {
  // Read once, before anything binds: an unreadable or wrong file stops the boot with a
  // ConfigError naming the variable.
  const tls = readServerTls(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    // HTTPS (the JWKS and the key API) with the same certificate as gRPC.
    ...(tls !== undefined ? { httpsOptions: { cert: tls.cert, key: tls.key } } : {}),
    // JSON logs from the first line: while the app waits for Postgres at start-up the retries
    // are printed as they happen; pino takes over once the app is built.
    logger: new ConsoleLogger({ json: true, logLevels: nestLogLevels(config.LOG_LEVEL) }),
    // Registered below, followed by our own parse-error handler.
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.useBodyParser('json', { limit: '64kb' });
  // A malformed body gets a JSON 400 that does not quote the body (V8's JSON.parse messages do).
  app.use(bodyParserErrorHandler(bodyParserErrorResponse));
  app.useGlobalFilters(
    new ApiExceptionFilter({ toResponse: toApiResponse, wwwAuthenticate: WWW_AUTHENTICATE }),
  );
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  // gRPC keeps Nest's own RPC exception handling (RpcException -> gRPC status); the HTTP
  // filter and pipes are not inherited.
  app.connectMicroservice<GrpcOptions>(grpcOptions(config, tls));
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('edge auth')
      .setDescription(
        'API keys, token exchange and JWKS. gRPC: edge.auth.v1.KeyVerificationService',
      )
      .setVersion('1')
      .addBasicAuth()
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, doc);
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  return app;
}
