import { type Scope } from '../keys/scopes';

/** Who is calling, established by an API key (HTTP Basic) or an access token (Bearer JWT). */
export interface Principal {
  tenant: string;
  userId: string;
  keyId: string;
  scopes: Scope[];
  via: 'api_key' | 'jwt';
  /** When this credential stops working (key expiry, rotation grace, token expiry), if ever. */
  validUntil: Date | null;
}
