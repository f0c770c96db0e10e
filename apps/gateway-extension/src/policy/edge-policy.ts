import { SCOPE_STRING } from '@edge/auth-contract';
import { z } from '@edge/service-config';

/**
 * The project's own policy kinds (CRDs in deploy/charts/gateway-extension/crds). Envoy Gateway
 * passes them to the hooks as JSON (`ExtensionResource.unstructured_bytes`):
 * - `EdgePolicy` targets a Gateway (Envoy Gateway's `extensionManager.policyResources`): the
 *   edge policy inserted into every HTTP connection manager of its listeners
 *   (PostHTTPListenerModify): the authn ext_proc filter, or basic_auth with htpasswd users.
 * - `EdgeRoutePolicy` is referenced from an HTTPRoute rule as an `ExtensionRef` filter
 *   (`extensionManager.resources`): the required scopes (or `public`) of the routes built from
 *   that rule, as route metadata for the authn processor (PostRouteModify).
 */
export const POLICY_GROUP = 'policy.edge.dev';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_API_VERSION = `${POLICY_GROUP}/${POLICY_VERSION}`;
export const EDGE_POLICY_KIND = 'EdgePolicy';
export const EDGE_ROUTE_POLICY_KIND = 'EdgeRoutePolicy';

/**
 * One htpasswd line as Envoy's basic_auth filter reads it: `user:{SHA}base64(sha1(password))`
 * (the only hash Envoy accepts; `htpasswd -s`). Plain passwords are never accepted.
 */
export const HTPASSWD_SHA_LINE = /^[^:\s]{1,64}:\{SHA\}[A-Za-z0-9+/]{27}=$/;
/** A DNS-1123 subdomain (Kubernetes object names) and a Gateway listener (section) name. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const SECTION_NAME = /^[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

const metadataSchema = z.object({
  name: z.string().regex(K8S_NAME, 'a Kubernetes object name'),
  namespace: z.string().regex(K8S_NAME, 'a Kubernetes namespace').default('default'),
  creationTimestamp: z.string().optional(),
  generation: z.number().int().optional(),
});

const targetRefSchema = z
  .object({
    group: z.literal('gateway.networking.k8s.io'),
    kind: z.literal('Gateway'),
    name: z.string().regex(K8S_NAME, 'a Gateway name'),
    sectionName: z.string().regex(SECTION_NAME, 'a listener name').optional(),
  })
  .strict();

export const edgePolicySpecSchema = z
  .object({
    targetRefs: z.array(targetRefSchema).min(1).max(16),
    /** The authn processor (API keys, JWT), the front proxy's filter. No settings of its own. */
    authn: z.object({}).strict().optional(),
    basicAuth: z
      .object({
        users: z
          .array(z.string().regex(HTPASSWD_SHA_LINE, 'an htpasswd line user:{SHA}<base64 sha1>'))
          .min(1)
          .max(1000),
        /** Upstream header carrying the authenticated user name (unset: none). */
        forwardUsernameHeader: z.string().regex(HEADER_NAME, 'a lower-case header name').optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => (s.authn === undefined) !== (s.basicAuth === undefined), {
    message: 'exactly one of authn or basicAuth (both read Authorization)',
  })
  .refine(
    (s) =>
      s.basicAuth === undefined ||
      new Set(s.basicAuth.users.map((u) => u.slice(0, u.indexOf(':')))).size ===
        s.basicAuth.users.length,
    { message: 'basicAuth.users has the same user twice' },
  );

export const edgeRoutePolicySpecSchema = z
  .object({
    requiredScopes: z
      .array(z.string().regex(SCOPE_STRING, 'a scope resource:action'))
      .max(32)
      .optional(),
    public: z.boolean().optional(),
  })
  .strict()
  .refine((s) => (s.requiredScopes?.length ?? 0) > 0 || s.public === true, {
    message: 'requiredScopes (non-empty) or public: true',
  });

const resourceSchema = <K extends string, S extends z.ZodTypeAny>(kind: K, spec: S) =>
  z.object({
    apiVersion: z.literal(POLICY_API_VERSION),
    kind: z.literal(kind),
    metadata: metadataSchema,
    spec,
  });

export const edgePolicySchema = resourceSchema(EDGE_POLICY_KIND, edgePolicySpecSchema);
export const edgeRoutePolicySchema = resourceSchema(
  EDGE_ROUTE_POLICY_KIND,
  edgeRoutePolicySpecSchema,
);

export type EdgePolicy = z.infer<typeof edgePolicySchema>;
export type EdgeRoutePolicy = z.infer<typeof edgeRoutePolicySchema>;
