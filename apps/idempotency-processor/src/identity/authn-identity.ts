import { AUTHN_DYNAMIC_METADATA_NAMESPACE } from '@edge/auth-contract';
import { type StreamContext } from '@edge/processor-core';

/*
 * THE one place this processor reads who the caller is. The authn processor (the filter before
 * this one) puts the verified identity in Envoy dynamic metadata under
 * `@edge/auth-contract`'s AUTHN_DYNAMIC_METADATA_NAMESPACE; Envoy forwards it here through
 * `metadata_options.forwarding_namespaces: { untyped: [edge.authn] }`. A client cannot set
 * dynamic metadata, so the tenant never comes from a request header.
 */

export interface CallerIdentity {
  readonly tenant: string;
}

/**
 * The verified tenant, or undefined when the authn filter did not authenticate this request
 * (a public route, or authn not in the chain). Reads the forwarded dynamic metadata ONLY:
 * `ctx.metadata(ns)` would also look at *route* metadata, which is configuration, not an
 * identity.
 */
export function readCallerIdentity(ctx: StreamContext<object>): CallerIdentity | undefined {
  const ns = ctx.metadataContext[AUTHN_DYNAMIC_METADATA_NAMESPACE];
  const tenant = ns?.tenant;
  if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 256) return undefined;
  return { tenant };
}
