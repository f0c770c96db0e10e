import {
  status as GrpcStatus,
  type Server,
  type ServerWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { health } from '@edge/protos';

const { HealthCheckResponse_ServingStatus: Serving } = health;
export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/**
 * The standard grpc.health.v1 service (Check + Watch). '' is the whole server; every other
 * registered name (e.g. `envoy.service.ext_proc.v3.ExternalProcessor`) follows it unless set apart.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<
    string,
    Set<ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>>
  >();

  constructor(serviceNames: readonly string[], initial: ServingStatus = 'SERVING') {
    this.statuses.set('', initial);
    for (const n of serviceNames) this.statuses.set(n, initial);
  }

  get(service = ''): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Set one service's status; without a name, set every service (the usual case). */
  set(status: ServingStatus, service?: string): void {
    const names = service === undefined ? [...this.statuses.keys()] : [service];
    for (const n of names) {
      this.statuses.set(n, status);
      for (const w of this.watchers.get(n) ?? []) w.write({ status: Serving[status] });
    }
  }

  register(server: Server): void {
    const impl: health.HealthServer = {
      check: (call, callback) => {
        const s = this.statuses.get(call.request.service);
        if (s === undefined) {
          const err: Partial<ServiceError> = {
            code: GrpcStatus.NOT_FOUND,
            details: 'unknown service',
          };
          callback(err, null);
          return;
        }
        callback(null, { status: Serving[s] });
      },
      watch: (
        call: ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>,
      ) => {
        const name = call.request.service;
        const s = this.statuses.get(name);
        call.write({ status: s === undefined ? Serving.SERVICE_UNKNOWN : Serving[s] });
        let set = this.watchers.get(name);
        if (set === undefined) this.watchers.set(name, (set = new Set()));
        set.add(call);
        const drop = (): void => {
          set.delete(call);
        };
        call.on('cancelled', drop);
        call.on('close', drop);
        call.on('error', drop);
      },
    };
    server.addService(health.HealthService, impl);
  }

  /** Ends every Watch stream (at shutdown, so they do not hold the server open). */
  endWatches(): void {
    for (const set of this.watchers.values()) {
      for (const w of set) w.end();
      set.clear();
    }
  }
}
