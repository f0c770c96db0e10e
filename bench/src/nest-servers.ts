// The ext_proc servers `bench:nest` compares, one per process: `node dist/nest-servers.js
// <kind> <port>`. Each answers request_headers with one header set (`x-bench: 1`).
//   core       processor-core's createExtProcServer, no Nest;
//   nest-ext   the same processor as a Nest provider, served by processor-core's ExtProcTransport
//              (createExtProcMicroservice + ExtProcModule.forRoot);
//   nest-grpc  Nest's built-in gRPC transport (Transport.GRPC, @grpc/proto-loader, Envoy's protos
//              from @grpc/grpc-js-xds) with a @GrpcStreamMethod handler over an RxJS Observable.
// Parent IPC: 'ready' once listening; answers 'cpu' with process.cpuUsage(); exits on SIGTERM.
import 'reflect-metadata';
import { dirname, join } from 'node:path';
import {
  BaseProcessor,
  createExtProcServer,
  silentLogger,
  type HeadersPhase,
  type StreamContext,
} from '@edge/processor-core';
import { createExtProcMicroservice, ExtProcModule } from '@edge/processor-core/nest';
import { Controller, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcStreamMethod, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { map, type Observable } from 'rxjs';

const kind = process.argv[2];
const port = Number(process.argv[3]);
// Metrics off by default so every row does the same work: protocol + one header mutation.
const metrics = process.env.EDGE_BENCH_METRICS === '1' ? {} : false;
const serverSettings = { host: '127.0.0.1', port, logger: silentLogger, metrics } as const;

@Injectable()
class BenchProcessor extends BaseProcessor {
  readonly name = 'bench';
  onRequestHeaders(_ctx: StreamContext, p: HeadersPhase): void {
    p.setHeader('x-bench', '1');
  }
}

// (c) What a Nest user writes with the built-in transport: proto-loader objects in and out.
interface HeadersResponse {
  response: { headerMutation: { setHeaders: unknown[] } };
}
interface ProcessingRequestObject {
  requestHeaders?: unknown;
}
interface ProcessingResponseObject {
  requestHeaders?: HeadersResponse;
}
const X_BENCH = {
  header: { key: 'x-bench', rawValue: Buffer.from('1') },
  append: { value: false },
};

@Controller()
class ExtProcController {
  @GrpcStreamMethod('ExternalProcessor', 'Process')
  process(messages: Observable<ProcessingRequestObject>): Observable<ProcessingResponseObject> {
    return messages.pipe(
      map((m) =>
        m.requestHeaders !== undefined
          ? { requestHeaders: { response: { headerMutation: { setHeaders: [X_BENCH] } } } }
          : {},
      ),
    );
  }
}

@Module({ controllers: [ExtProcController] })
class GrpcAppModule {}

function envoyProtoDirs(): { protoPath: string; includeDirs: string[] } {
  // Same include dirs as packages/protos/scripts/generate.mjs.
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) =>
    join(deps, d),
  );
  return {
    protoPath: join(deps, 'envoy-api/envoy/service/ext_proc/v3/external_processor.proto'),
    includeDirs,
  };
}

async function start(): Promise<() => Promise<void>> {
  switch (kind) {
    case 'core': {
      const server = createExtProcServer({ ...serverSettings, processor: new BenchProcessor() });
      await server.listen();
      return () => server.shutdown({ graceMs: 500 });
    }
    case 'nest-ext': {
      @Module({
        imports: [ExtProcModule.forRoot({ processors: [BenchProcessor], server: serverSettings })],
      })
      class ExtAppModule {}
      const app = await createExtProcMicroservice(ExtAppModule, { logger: false });
      await app.listen();
      return () => app.close();
    }
    case 'nest-grpc': {
      const { protoPath, includeDirs } = envoyProtoDirs();
      const app = await NestFactory.createMicroservice<MicroserviceOptions>(GrpcAppModule, {
        logger: false,
        transport: Transport.GRPC,
        options: {
          url: `127.0.0.1:${port}`,
          package: 'envoy.service.ext_proc.v3',
          protoPath,
          loader: { includeDirs },
        },
      });
      await app.listen();
      return () => app.close();
    }
    default:
      throw new Error(`unknown server kind: ${kind}`);
  }
}

start().then(
  (stop) => {
    process.on('message', (m) => {
      if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
    });
    process.send?.('ready');
    process.once('SIGTERM', () => {
      void stop().finally(() => process.exit(0));
    });
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
