// The one test runner for the repo. SWC compiles TypeScript so NestJS decorator metadata
// (emitDecoratorMetadata) works in tests exactly as in the tsc build.
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const swcPlugin = () =>
  swc.vite({
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
  });

/** Unit tests: `*.spec.ts` beside the code, no I/O. */
export function unitConfig() {
  return defineConfig({
    plugins: [swcPlugin()],
    test: {
      include: ['src/**/*.spec.ts'],
      environment: 'node',
      pool: 'threads',
    },
  });
}

/**
 * Integration / end-to-end tests: real Envoy, Postgres, Redis, Kafka started by @edge/testkit.
 * Files run one at a time per package (2-core machine, real servers).
 */
export function integrationConfig() {
  return defineConfig({
    plugins: [swcPlugin()],
    test: {
      include: ['test/**/*.int-spec.ts', 'test/**/*.e2e-spec.ts'],
      environment: 'node',
      pool: 'forks',
      fileParallelism: false,
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  });
}
