// A node of the topology: one Envoy (its id and cluster as in its bootstrap) and the shipped config
// it runs with its values. Static bootstraps (tests, benches) and the control plane's snapshots are
// both rendered from it, so they cannot describe two different proxies.
import { type FrontProxyVars, renderEnvoyConfig, type SidecarVars } from './render';
import { xdsResourcesFromBootstrap, type XdsResources } from './xds';

export type TopologyNode =
  | { id: string; cluster: string; config: 'front-proxy'; vars: FrontProxyVars }
  | { id: string; cluster: string; config: 'sidecar'; vars: SidecarVars };

/** The node's static bootstrap (the template filled with its values). */
export function renderNode(node: TopologyNode): string {
  return node.config === 'front-proxy'
    ? renderEnvoyConfig('front-proxy', node.vars)
    : renderEnvoyConfig('sidecar', node.vars);
}

/** The node's xDS resources: the same bootstrap, split (see xds.ts). */
export function nodeXdsResources(node: TopologyNode): XdsResources {
  return xdsResourcesFromBootstrap(renderNode(node));
}
