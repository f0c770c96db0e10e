// "Envoy alone" for bench:authn: the real rendered front-proxy config with every ext_proc filter
// disabled on every route (route-level `FilterConfig { disabled: true }`, the same mechanism the
// config already uses for its 404 route). Listeners, access log, local replies, header limits,
// clusters and the filter chain itself stay identical; only the ext_proc call is skipped.
import { parse } from 'yaml';

const FILTER_CONFIG = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Returns the config with ext_proc disabled on all routes, and the names of the filters.
 * `only`: disable just these filters (e.g. the idempotency one, for "authn alone").
 */
export function withoutExtProc(
  configYaml: string,
  only?: readonly string[],
): { yaml: string; disabled: string[] } {
  const root = parse(configYaml) as Obj;
  const statics = isObj(root.static_resources) ? root.static_resources : {};
  const disabled = new Set<string>();
  let routes = 0;
  for (const listener of list(statics.listeners)) {
    if (!isObj(listener)) continue;
    for (const chain of list(listener.filter_chains)) {
      if (!isObj(chain)) continue;
      for (const filter of list(chain.filters)) {
        if (!isObj(filter) || !isObj(filter.typed_config)) continue;
        const hcm = filter.typed_config;
        const extProcs = list(hcm.http_filters)
          .filter(isObj)
          .filter((f) => String(f.name).startsWith('envoy.filters.http.ext_proc'))
          .map((f) => String(f.name))
          .filter((name) => only === undefined || only.includes(name));
        if (extProcs.length === 0 || !isObj(hcm.route_config)) continue;
        for (const vh of list(hcm.route_config.virtual_hosts)) {
          if (!isObj(vh)) continue;
          for (const route of list(vh.routes)) {
            if (!isObj(route)) continue;
            const perFilter = isObj(route.typed_per_filter_config)
              ? route.typed_per_filter_config
              : {};
            for (const name of extProcs) {
              perFilter[name] = { '@type': FILTER_CONFIG, disabled: true };
              disabled.add(name);
            }
            route.typed_per_filter_config = perFilter;
            routes++;
          }
        }
      }
    }
  }
  if (disabled.size === 0 || routes === 0) {
    throw new Error('front-proxy config: no ext_proc filter/route found to disable');
  }
  // JSON is valid YAML and what Envoy's loader reads either way.
  return { yaml: JSON.stringify(root, null, 2), disabled: [...disabled] };
}
