/**
 * The ONE place this app reads the authn processor's identity. It comes from Envoy dynamic
 * metadata (namespace `edge.authn`, set by apps/authn-processor and forwarded to this filter
 * with `metadata_options.forwarding_namespaces`), never from request headers a client could
 * send. When the namespace name moves to a shared contract package, only this file changes.
 */
export const AUTHN_METADATA_NAMESPACE = 'edge.authn';

export interface AuthnIdentity {
  tenant: string;
  userId: string;
  keyId: string;
  via: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Reads the identity from forwarded dynamic metadata only (not route metadata, which shares the
 * namespace but holds required scopes). Undefined when authn did not authenticate the request.
 */
export function readAuthnIdentity(
  dynamicMetadata: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): AuthnIdentity | undefined {
  const ns = dynamicMetadata[AUTHN_METADATA_NAMESPACE];
  if (ns === undefined) return undefined;
  const tenant = str(ns.tenant);
  if (tenant === '') return undefined;
  return { tenant, userId: str(ns.user_id), keyId: str(ns.key_id), via: str(ns.via) };
}
