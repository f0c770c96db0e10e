import { integrationConfig } from '@edge/vitest-config';
export default integrationConfig();
