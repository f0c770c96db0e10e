// Copies the repo's .proto tree into dist/proto so the built service is self-contained: Nest's
// gRPC transport loads the protos at runtime (see src/verification/proto-path.ts).
import { cpSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dest = join(app, 'dist/proto');
rmSync(dest, { recursive: true, force: true });
cpSync(resolve(app, '../../proto'), dest, {
  recursive: true,
  filter: (p) => !p.endsWith('.yaml'),
});
