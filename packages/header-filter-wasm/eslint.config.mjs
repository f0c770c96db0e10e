import { edgeConfig } from '@edge/eslint-config';
// assembly/ is AssemblyScript (checked by its compiler, asc), not TypeScript for Node.
export default [
  { ignores: ['assembly/**'] },
  ...edgeConfig({ tsconfigRootDir: import.meta.dirname }),
];
