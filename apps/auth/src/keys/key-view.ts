import { type ApiKeyEntity } from '../database/entities';
import { type KeyViewDto } from './keys.dto';

/**
 * The public view of a key: never the secret or any hash. `expires_at` and `parent_key_id` are
 * present only when set, so a root key has exactly the quickstart's shape.
 */
export function keyView(k: ApiKeyEntity): KeyViewDto {
  const view: KeyViewDto = {
    tenant: k.tenantId,
    user_id: k.userId,
    key_id: k.keyId,
    created_at: k.createdAt.toISOString(),
    updated_at: k.updatedAt.toISOString(),
    revoked_at: k.revokedAt ? k.revokedAt.toISOString() : null,
    status: k.status,
    scopes: k.scopes.map((s) => ({ resource: s.resource, action: s.action })),
  };
  if (k.expiresAt) view.expires_at = k.expiresAt.toISOString();
  if (k.parentKeyId) view.parent_key_id = k.parentKeyId;
  return view;
}
