import {
  httpConnectionManager,
  type envoyListener,
  type envoyListenerComponents,
} from '@edge/protos';
import { type EdgePolicy } from '../policy/edge-policy';
import { unpack, pack } from '../xds/any';
import { edgeFilters, MANAGED_FILTER_NAMES } from '../xds/edge-filters';
import { HCM_TYPE, ROUTER_FILTER_NAME, TYPE_URL_PREFIX_ROUTER } from '../xds/type-names';

type Listener = envoyListener.Listener;
type FilterChain = envoyListenerComponents.FilterChain;
type HttpFilter = httpConnectionManager.HttpFilter;
const HCM = httpConnectionManager.HttpConnectionManager;

export interface ListenerOutcome {
  readonly listener: Listener;
  /** HTTP connection managers found (every filter chain and the default one). */
  readonly hcms: number;
  /** Of those, the ones whose filters changed. */
  readonly changed: number;
  /** HCMs without a router filter: the edge filters went first in the chain. */
  readonly withoutRouter: number;
}

function isRouter(f: HttpFilter): boolean {
  return (
    f.name === ROUTER_FILTER_NAME ||
    (f.configType?.$case === 'typedConfig' && f.configType.value.typeUrl === TYPE_URL_PREFIX_ROUTER)
  );
}

function sameFilter(a: HttpFilter, b: HttpFilter): boolean {
  const ea = httpConnectionManager.HttpFilter.encode(a).finish();
  const eb = httpConnectionManager.HttpFilter.encode(b).finish();
  return Buffer.from(ea).equals(Buffer.from(eb));
}

/**
 * The HCM's filters with the desired edge filters: the ones this extension owns but the policy
 * no longer asks for go; each desired one replaces its namesake in place, or goes right before
 * the router (first, when there is no router). Returns undefined when nothing changed.
 */
export function withEdgeFilters(
  filters: readonly HttpFilter[],
  desired: readonly HttpFilter[],
): { filters: HttpFilter[]; routerFound: boolean } | undefined {
  const wanted = new Set(desired.map((f) => f.name));
  let changed = false;
  const out: HttpFilter[] = [];
  for (const f of filters) {
    if (MANAGED_FILTER_NAMES.has(f.name) && !wanted.has(f.name)) {
      changed = true;
      continue;
    }
    out.push(f);
  }
  for (const d of desired) {
    const at = out.findIndex((f) => f.name === d.name);
    if (at >= 0) {
      const existing = out[at];
      if (existing !== undefined && !sameFilter(existing, d)) {
        out[at] = d;
        changed = true;
      }
      continue;
    }
    const router = out.findIndex(isRouter);
    out.splice(router >= 0 ? router : 0, 0, d);
    changed = true;
  }
  const routerFound = out.some(isRouter);
  return changed ? { filters: out, routerFound } : undefined;
}

/**
 * PostHTTPListenerModify's work: the policy's edge filters in every HTTP connection manager of
 * the listener (each filter chain and the default one). Idempotent: applied to its own output
 * it changes nothing. A listener without an HCM comes back as it was (hcms: 0). Throws only on
 * an HCM whose bytes do not decode (a listener Envoy could not load either).
 */
export function applyEdgePolicy(
  listener: Listener,
  policy: EdgePolicy | undefined,
  authnCluster: string,
): ListenerOutcome {
  const desired = edgeFilters(policy, authnCluster);
  let hcms = 0;
  let changed = 0;
  let withoutRouter = 0;
  const chain = (fc: FilterChain): FilterChain => {
    let touched = false;
    const filters = fc.filters.map((f) => {
      if (f.configType?.$case !== 'typedConfig') return f;
      const hcm = unpack(f.configType.value, HCM_TYPE, HCM);
      if (hcm === undefined) return f;
      hcms++;
      const next = withEdgeFilters(hcm.httpFilters, desired);
      if (next === undefined) return f;
      changed++;
      if (!next.routerFound) withoutRouter++;
      touched = true;
      return {
        ...f,
        configType: {
          $case: 'typedConfig' as const,
          value: pack(HCM_TYPE, HCM, { ...hcm, httpFilters: next.filters }),
        },
      };
    });
    return touched ? { ...fc, filters } : fc;
  };
  const out: Listener = {
    ...listener,
    filterChains: listener.filterChains.map(chain),
    defaultFilterChain:
      listener.defaultFilterChain === undefined ? undefined : chain(listener.defaultFilterChain),
  };
  return { listener: changed > 0 ? out : listener, hcms, changed, withoutRouter };
}
