import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics (GET /metrics): requests, renewals, renewal failures. */
@Injectable()
export class HeaderProviderMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'header_provider_requests_total',
    help: 'GET /headers answers by status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly renewals = new Counter({
    name: 'header_provider_token_renewals_total',
    help: 'Workload tokens obtained from the auth service',
    registers: [this.registry],
  });
  private readonly failures = new Counter({
    name: 'header_provider_token_renewal_failures_total',
    help: 'Failed token exchanges by reason (a status and details code, timeout, unreachable)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly expiresAt = new Gauge({
    name: 'header_provider_token_expires_at_seconds',
    help: 'Expiry of the current workload token (Unix seconds; 0: none)',
    registers: [this.registry],
  });
  private readonly skipped = new Counter({
    name: 'header_provider_invalid_headers_total',
    help: 'Configured headers never served because their name or value is invalid (RFC 9110)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.expiresAt.set(0);
  }

  request(status: number): void {
    this.requests.labels(String(status)).inc();
  }

  tokenRenewed(expiresAtMs: number): void {
    this.renewals.inc();
    this.expiresAt.set(Math.floor(expiresAtMs / 1000));
  }

  tokenRenewalFailed(reason: string): void {
    this.failures.labels(reason).inc();
  }

  invalidHeader(): void {
    this.skipped.inc();
  }
}
