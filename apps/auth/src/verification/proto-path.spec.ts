import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTH_PROTO, findProtoRoot } from './proto-path';

describe('findProtoRoot', () => {
  it('finds the proto tree from the source directory', () => {
    expect(existsSync(join(findProtoRoot(), AUTH_PROTO))).toBe(true);
  });

  it('fails loudly when there is none', () => {
    expect(() => findProtoRoot('/')).toThrow(/cannot find/);
  });
});
