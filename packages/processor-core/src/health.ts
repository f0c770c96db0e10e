import {
  status as GrpcStatus,
  type Server,
  type ServerWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { health } from '@edge/protos';

const { HealthCheckResponse_ServingStatus: Serving } = health;
export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** A Watch stream, whichever transport carries it. */
export interface HealthWatcher {
  write(res: health.HealthCheckResponse): void;
  end(): void;
}

/**
 * The standard grpc.health.v1 service (Check + Watch). '' is the whole server; every other
 * registered name (e.g. `envoy.service.ext_proc.v3.ExternalProcessor`) follows it unless set apart.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<HealthWatcher>>();

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

  /** The Check answer for `service`: its status, or undefined (NOT_FOUND). */
  check(service: string): health.HealthCheckResponse | undefined {
    const s = this.statuses.get(service);
    return s === undefined ? undefined : { status: Serving[s] };
  }

  /** Starts a Watch: writes the current status now and on every change; returns the unsubscribe. */
  watch(service: string, w: HealthWatcher): () => void {
    const s = this.statuses.get(service);
    w.write({ status: s === undefined ? Serving.SERVICE_UNKNOWN : Serving[s] });
    let set = this.watchers.get(service);
    if (set === undefined) this.watchers.set(service, (set = new Set()));
    set.add(w);
    return () => {
      set.delete(w);
    };
  }

  /** Serves grpc.health.v1 on a grpc-js server. */
  register(server: Server): void {
    const impl: health.HealthServer = {
      check: (call, callback) => {
        const res = this.check(call.request.service);
        if (res === undefined) {
          const err: Partial<ServiceError> = {
            code: GrpcStatus.NOT_FOUND,
            details: 'unknown service',
          };
          callback(err, null);
          return;
        }
        callback(null, res);
      },
      watch: (
        call: ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>,
      ) => {
        const drop = this.watch(call.request.service, call);
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
