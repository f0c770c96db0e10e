import { type StreamContext } from '@edge/processor-core';

/**
 * THE one place this processor reads who the caller is. The authn processor (the filter before
 * this one) puts the verified identity in Envoy dynamic metadata under this namespace; Envoy
 * forwards it here through `metadata_options.forwarding_namespaces: { untyped: [edge.authn] }`.
 * A client cannot set dynamic metadata, so the tenant never comes from a request header.
 *
 * TODO(lead): point AUTHN_METADATA_NAMESPACE and the shape below at `@edge/auth-contract`.
 */
export const AUTHN_METADATA_NAMESPACE = 'edge.authn';

export interface CallerIdentity {
  readonly tenant: string;
}

/**
 * The verified tenant, or undefined when the authn filter did not authenticate this request
 * (a public route, or authn not in the chain). Reads the forwarded dynamic metadata ONLY:
 * `ctx.metadata(ns)` would fall back to the *route* metadata of the same name (the front proxy
 * uses `edge.authn` there for required scopes), which is configuration, not an identity.
 */
export function readCallerIdentity(ctx: StreamContext<object>): CallerIdentity | undefined {
  const ns = ctx.metadataContext[AUTHN_METADATA_NAMESPACE];
  const tenant = ns?.tenant;
  if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 256) return undefined;
  return { tenant };
}
