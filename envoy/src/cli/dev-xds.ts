// An xDS-managed Envoy of the dev stack: the node's minimal bootstrap (node id, ADS over mTLS to
// the dev control plane on :18000) and its client certificate from the dev PKI.
import {
  CA_SECRET,
  CLIENT_CERT_SECRET,
  CONTROL_PLANE_SAN,
  ensurePki,
  pkiLayout,
} from '@edge/xds-pki';
import { localBackend, type EnvoyInfo, type Started } from '@edge/testkit';
import { DEV_CONTROL_PLANE, DEV_NODE_IDS, DEV_XDS_PKI_DIR, devTopology } from '../dev-topology';
import { renderNode } from '../topology';
import { xdsBootstrap } from '../xds';

export async function startDevXdsEnvoy(opts: {
  nodeId: string;
  name: string;
  adminPort: number;
  readyPorts: number[];
}): Promise<Started<EnvoyInfo>> {
  const node = devTopology().find((n) => n.id === opts.nodeId);
  if (!node) throw new Error(`no dev node ${opts.nodeId}`);
  // Idempotent; the control plane runs the same at its start (whoever comes first creates it).
  ensurePki(DEV_XDS_PKI_DIR, Object.values(DEV_NODE_IDS));
  const files = pkiLayout(DEV_XDS_PKI_DIR).node(node.id);
  const configYaml = xdsBootstrap(renderNode(node), {
    nodeId: node.id,
    nodeCluster: node.cluster,
    controlPlaneHost: '127.0.0.1',
    controlPlanePort: DEV_CONTROL_PLANE.XDS_PORT,
    clientCert: { path: files.sdsCert, secret: CLIENT_CERT_SECRET },
    ca: { path: files.sdsCa, secret: CA_SECRET },
    controlPlaneSan: CONTROL_PLANE_SAN,
  });
  return localBackend().envoy({
    name: opts.name,
    configYaml,
    adminPort: opts.adminPort,
    readyPorts: opts.readyPorts,
    logLevel: 'warn',
    // Its listeners come from the control plane, which waits for Postgres in the dev stack.
    startTimeoutMs: 180_000,
  });
}
