import 'reflect-metadata';
import { BadRequestException, type INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ApiExceptionFilter, bodyParserErrorHandler } from '@edge/nest-common/http-errors';
import { ensurePki } from '@edge/xds-pki';
import { type ValidationError } from 'class-validator';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import {
  bodyParserErrorResponse,
  invalidFields,
  toApiResponse,
  WWW_AUTHENTICATE,
} from './common/api-error';
import { type ControlPlaneConfig } from './config/control-plane.config';
import { SnapshotsService } from './snapshots/snapshots.service';
import { type FieldProblem } from './topology/snapshot-builder';
import { XdsService } from './xds/xds.service';

/** class-validator's errors as field problems (nested fields dotted: endpoints.0.port). */
export function fieldProblems(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = `${prefix}${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldProblems(e.children ?? [], `${field}.`)];
  });
}

export interface StartedControlPlane {
  app: INestApplication;
  xdsPort: number;
}

/** The admin HTTP API and the xDS server. Used by main.ts and the tests. */
export async function startControlPlane(config: ControlPlaneConfig): Promise<StartedControlPlane> {
  if (config.XDS_PKI_INIT) {
    ensurePki(
      config.XDS_PKI_DIR,
      config.nodes.map((n) => n.id),
    );
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: config.JSON_BODY_LIMIT_BYTES });
  app.useBodyParser('raw', { type: 'application/wasm', limit: config.WASM_MAX_BYTES });
  app.use(bodyParserErrorHandler(bodyParserErrorResponse));
  app.useGlobalFilters(
    new ApiExceptionFilter({ toResponse: toApiResponse, wwwAuthenticate: WWW_AUTHENTICATE }),
  );
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => {
        const problems = fieldProblems(errors);
        return problems.length > 0
          ? invalidFields(400, problems)
          : new BadRequestException('invalid input');
      },
    }),
  );
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('edge control plane')
      .setDescription(
        'The admin API of the xDS control plane: routes and upstreams per node, Wasm modules and their rollouts, node status. Every change is checked and published to the node at once.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, doc);
  app.enableShutdownHooks();
  await app.init();
  // Every node's snapshot is in the cache before the first Envoy can connect.
  await app.get(SnapshotsService).publishAll();
  const xdsPort = await app.get(XdsService).start();
  await app.listen(config.PORT, config.HOST);
  return { app, xdsPort };
}
