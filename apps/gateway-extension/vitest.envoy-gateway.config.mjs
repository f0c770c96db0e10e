import { integrationConfig } from '@edge/vitest-config';

// test/*.eg-spec.ts: the flow through a real Envoy Gateway; run by scripts/envoy-gateway-flow.sh.
const config = integrationConfig();
config.test.include = ['test/**/*.eg-spec.ts'];
config.test.testTimeout = 240_000;
config.test.hookTimeout = 300_000;
export default config;
