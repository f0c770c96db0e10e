import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  type ServerReadableStream,
  type sendUnaryData,
  Server,
  ServerCredentials,
} from '@grpc/grpc-js';
import { accessLogService } from '@edge/protos';
import {
  LOGGING_PROCESSOR_CONFIG,
  type LoggingProcessorConfig,
} from '../config/logging-processor.config';
import { LOGGER, type Logger } from '../logging/logger';
import { RecordMerger } from '../record/record-merger';

type Msg = accessLogService.StreamAccessLogsMessage;
type Res = accessLogService.StreamAccessLogsResponse;

/**
 * Envoy's gRPC access log service (`envoy.service.accesslog.v3.AccessLogService`, the front
 * proxy's `envoy.access_loggers.http_grpc` logger) on ACCESS_LOG_PORT. Envoy streams one entry
 * per local reply; each goes to the RecordMerger, which completes that request's ext_proc
 * record with the real status, size and response code details. Owns the merger's end: on
 * shutdown the server stops taking streams, then the merger publishes what still waits.
 */
@Injectable()
export class AccessLogServiceServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: Server | undefined;
  port = 0;

  constructor(
    @Inject(LOGGING_PROCESSOR_CONFIG) private readonly config: LoggingProcessorConfig,
    @Inject(RecordMerger) private readonly merger: RecordMerger,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.ACCESS_LOG_PORT === 0) return;
    const server = new Server();
    server.addService(accessLogService.AccessLogServiceService, {
      streamAccessLogs: (call: ServerReadableStream<Msg, Res>, done: sendUnaryData<Res>) =>
        this.stream(call, done),
    });
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `${this.config.GRPC_HOST}:${this.config.ACCESS_LOG_PORT}`,
        ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      );
    });
    this.server = server;
    this.logger.info(
      { event: 'access_log_service_listening', port: this.port },
      'gRPC access log service listening',
    );
  }

  private stream(call: ServerReadableStream<Msg, Res>, done: sendUnaryData<Res>): void {
    call.on('data', (msg: Msg) => {
      if (msg.logEntries?.$case !== 'httpLogs') return;
      for (const entry of msg.logEntries.value.logEntry) {
        try {
          this.merger.fromAccessLog(entry);
        } catch (err) {
          this.logger.error(
            { event: 'access_log_entry_failed', err: (err as Error).message },
            'could not use an access-log entry',
          );
        }
      }
    });
    call.on('end', () => done(null, {}));
    call.on('error', () => undefined);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.merger.close();
  }
}
