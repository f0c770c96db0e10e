import { integrationConfig } from '@edge/vitest-config';
import { mergeConfig } from 'vitest/config';

// The compose stack test: the images, started by docker-compose (not by the testkit).
export default mergeConfig(integrationConfig(), {
  test: { include: ['test/**/*.compose-spec.ts'], hookTimeout: 600_000, testTimeout: 120_000 },
});
