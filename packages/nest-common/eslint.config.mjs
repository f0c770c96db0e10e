import { edgeConfig } from '@edge/eslint-config';
export default edgeConfig({ tsconfigRootDir: import.meta.dirname });
