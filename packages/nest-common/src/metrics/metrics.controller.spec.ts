import 'reflect-metadata';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricsController } from './metrics.controller';

describe('MetricsController', () => {
  it("serves the app's registry in the Prometheus text format", async () => {
    const registry = new Registry();
    new Counter({ name: 'app_things_total', help: 'things', registers: [registry] }).inc(2);
    const text = await new MetricsController(registry).metrics();
    expect(text).toContain('# HELP app_things_total things');
    expect(text).toContain('app_things_total 2');
  });
});
