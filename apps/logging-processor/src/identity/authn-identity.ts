import { AUTHN_DYNAMIC_METADATA_NAMESPACE } from '@edge/auth-contract';

/**
 * The ONE place this app reads the authn processor's identity. It comes from Envoy dynamic
 * metadata (`@edge/auth-contract`'s AUTHN_DYNAMIC_METADATA_NAMESPACE, set by
 * apps/authn-processor and forwarded to this filter with `metadata_options.forwarding_namespaces`,
 * or carried by the access-log entry's `common_properties.metadata`), never from request headers
 * a client could send.
 */

export interface AuthnIdentity {
  tenant: string;
  userId: string;
  keyId: string;
  via: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Reads the identity from dynamic metadata only (never route metadata, which holds the route's
 * policy). Undefined when authn did not authenticate the request.
 */
export function readAuthnIdentity(
  dynamicMetadata: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): AuthnIdentity | undefined {
  const ns = dynamicMetadata[AUTHN_DYNAMIC_METADATA_NAMESPACE];
  if (ns === undefined) return undefined;
  const tenant = str(ns.tenant);
  if (tenant === '') return undefined;
  return { tenant, userId: str(ns.user_id), keyId: str(ns.key_id), via: str(ns.via) };
}
