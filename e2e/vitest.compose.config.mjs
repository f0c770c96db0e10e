import { integrationConfig } from '@edge/vitest-config';
import { defineConfig } from 'vitest/config';

// The compose stack test: the images, started by docker-compose (not by the testkit).
const base = integrationConfig();
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.compose-spec.ts'],
    hookTimeout: 600_000,
    testTimeout: 120_000,
  },
});
