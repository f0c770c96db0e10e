import { unitConfig } from '@edge/vitest-config';
export default unitConfig();
