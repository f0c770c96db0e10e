import { describe, expect, it } from 'vitest';
import { type ApiKeyEntity } from '../database/entities';
import { keyView } from './key-view';

const t = new Date('2030-01-01T00:00:00Z');
const entity = (over: Partial<ApiKeyEntity> = {}): ApiKeyEntity => ({
  keyId: 'ak_1',
  tenantId: 'tn',
  userId: 'us',
  parentKeyId: null,
  ancestorKeyIds: [],
  status: 'active',
  scopes: [{ resource: 'keys', action: 'read' }],
  secretHash: Buffer.alloc(32, 1),
  previousSecretHash: Buffer.alloc(32, 2),
  previousSecretExpiresAt: t,
  createdAt: t,
  updatedAt: t,
  revokedAt: null,
  expiresAt: null,
  tokensNotBefore: new Date(t.getTime() + 1000),
  ...over,
});

describe('keyView', () => {
  it('has exactly the quickstart fields for a root key, and no secret material', () => {
    const v = keyView(entity());
    expect(Object.keys(v)).toEqual([
      'tenant',
      'user_id',
      'key_id',
      'created_at',
      'updated_at',
      'revoked_at',
      'status',
      'scopes',
    ]);
    expect(JSON.stringify(v)).not.toMatch(/hash|secret/i);
  });

  it('adds expires_at and parent_key_id only when set', () => {
    const v = keyView(
      entity({ expiresAt: t, parentKeyId: 'ak_0', revokedAt: t, status: 'revoked' }),
    );
    expect(v).toMatchObject({
      expires_at: t.toISOString(),
      parent_key_id: 'ak_0',
      revoked_at: t.toISOString(),
      status: 'revoked',
    });
  });
});
