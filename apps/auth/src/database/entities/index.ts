import { ApiKeyEntity } from './api-key.entity';
import { SigningKeyEntity } from './signing-key.entity';
import { TenantEntity } from './tenant.entity';
import { UserEntity } from './user.entity';

export { ApiKeyEntity, SigningKeyEntity, TenantEntity, UserEntity };
export const ENTITIES = [TenantEntity, UserEntity, ApiKeyEntity, SigningKeyEntity];
