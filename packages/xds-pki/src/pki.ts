import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

/** SDS secret names in the files written here (the bootstrap refers to them). */
export const CLIENT_CERT_SECRET = 'xds_client_cert';
export const CA_SECRET = 'xds_ca';
/** The DNS name the control plane's certificate carries and every Envoy checks. */
export const CONTROL_PLANE_SAN = 'control-plane';

/** A node id is also a certificate CN and a directory name: keep it to a safe alphabet. */
export const NODE_ID_RE = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/** The URI SAN a node's client certificate carries. */
export function nodeSpiffeId(id: string): string {
  return `spiffe://edge/xds-node/${id}`;
}

/** The parts of a verified client certificate (Node's `tls.PeerCertificate`) the check reads. */
export interface PeerCertificateNames {
  subject?: { CN?: string | string[] } | null;
  subjectaltname?: string;
}

/**
 * Whether a verified client certificate was issued for node `id`: its CN is `id` and one of its
 * SANs is `URI:spiffe://edge/xds-node/<id>` (both as `issueNodeCert` writes them). Returns true,
 * or the reason it is not (names only the certificate's identity, no secret).
 */
export function certificateNamesNode(
  id: string,
  cert: PeerCertificateNames | undefined,
): true | string {
  if (!cert) return 'no verified client certificate';
  if (!NODE_ID_RE.test(id)) return 'not a valid node id';
  const cn = cert.subject?.CN;
  const uris = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((e) => e.startsWith('URI:'))
    .map((e) => e.slice(4));
  const shown = JSON.stringify(typeof cn === 'string' ? cn : (cn ?? null));
  if (cn !== id) return `the client certificate's CN is ${shown}`;
  if (!uris.includes(nodeSpiffeId(id))) {
    return `the client certificate (CN ${shown}) has no SAN ${nodeSpiffeId(id)}`;
  }
  return true;
}

export interface CertFiles {
  cert: string;
  key: string;
}

export interface NodeTlsFiles extends CertFiles {
  /** The node's directory (Envoy watches it: a rotation swaps `current` in it). */
  dir: string;
  /** SDS file with the node's client certificate (secret `CLIENT_CERT_SECRET`). */
  sdsCert: string;
  /** SDS file with the CA that signed the control plane's certificate (secret `CA_SECRET`). */
  sdsCa: string;
}

/** Where everything lives under a PKI directory. */
export function pkiLayout(dir: string) {
  return {
    dir,
    ca: { cert: join(dir, 'ca', 'ca.crt'), key: join(dir, 'ca', 'ca.key') } satisfies CertFiles,
    server: {
      cert: join(dir, 'server', 'current', 'tls.crt'),
      key: join(dir, 'server', 'current', 'tls.key'),
    } satisfies CertFiles,
    node(id: string): NodeTlsFiles {
      if (!NODE_ID_RE.test(id)) throw new Error(`invalid node id ${JSON.stringify(id)}`);
      const nodeDir = join(dir, 'nodes', id);
      return {
        dir: nodeDir,
        cert: join(nodeDir, 'current', 'tls.crt'),
        key: join(nodeDir, 'current', 'tls.key'),
        sdsCert: join(nodeDir, 'sds-cert.yaml'),
        sdsCa: join(nodeDir, 'sds-ca.yaml'),
      };
    },
  };
}

export interface PkiOptions {
  /** Lifetime of leaf certificates (server and nodes). Default 90 days. */
  leafDays?: number;
  /** Lifetime of the CA. Default 3650 days. */
  caDays?: number;
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed (is Debian's openssl installed?): ${stderr}`, {
      cause: e,
    });
  }
}

function newKey(path: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
  chmodSync(path, 0o600);
}

function tmpName(path: string): string {
  return `${path}.tmp-${randomBytes(4).toString('hex')}`;
}

/** Writes a file by rename, so a watcher (Envoy) never reads half of it. */
function writeAtomic(path: string, data: string): void {
  const tmp = tmpName(path);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function createCa(files: CertFiles, days: number): void {
  mkdirSync(dirname(files.cert), { recursive: true });
  newKey(files.key);
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    files.key,
    '-out',
    files.cert,
    '-days',
    String(days),
    '-subj',
    '/CN=edge xDS CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** Issues a leaf into `<parent>/gen-<stamp>/` and points `<parent>/current` at it (atomically). */
function issueLeaf(
  ca: CertFiles,
  parent: string,
  cn: string,
  ext: string,
  days: number,
): CertFiles {
  const gen = `gen-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const genDir = join(parent, gen);
  mkdirSync(genDir, { recursive: true });
  const files = { cert: join(genDir, 'tls.crt'), key: join(genDir, 'tls.key') };
  const csr = join(genDir, 'tls.csr');
  const extFile = join(genDir, 'tls.ext');
  newKey(files.key);
  writeFileSync(extFile, ext);
  openssl(['req', '-new', '-key', files.key, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-out',
    files.cert,
    '-days',
    String(days),
    '-extfile',
    extFile,
  ]);
  rmSync(csr);
  rmSync(extFile);
  // The symlink swap is one rename: Envoy's watched_directory and grpc-js's file watcher see
  // either the old pair or the new one, never a new certificate with the old key.
  const link = tmpName(join(parent, 'current'));
  symlinkSync(gen, link);
  renameSync(link, join(parent, 'current'));
  // Older generations are kept one round (a reader may still hold the previous link).
  const keep = new Set([gen, previousGen(parent, gen)]);
  for (const entry of readdirSync(parent)) {
    if (entry.startsWith('gen-') && !keep.has(entry)) {
      rmSync(join(parent, entry), { recursive: true, force: true });
    }
  }
  return files;
}

function previousGen(parent: string, current: string): string | undefined {
  return readdirSync(parent)
    .filter((e) => e.startsWith('gen-') && e !== current)
    .sort()
    .at(-1);
}

const SERVER_EXT =
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
  `extendedKeyUsage=serverAuth\nsubjectAltName=DNS:${CONTROL_PLANE_SAN},DNS:localhost,IP:127.0.0.1,IP:::1\n`;

const clientExt = (id: string) =>
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
  `extendedKeyUsage=clientAuth\nsubjectAltName=URI:${nodeSpiffeId(id)}\n`;

function writeNodeSds(layoutDir: string, id: string): void {
  const files = pkiLayout(layoutDir).node(id);
  const ca = pkiLayout(layoutDir).ca;
  writeAtomic(
    files.sdsCert,
    stringify({
      resources: [
        {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
          name: CLIENT_CERT_SECRET,
          tls_certificate: {
            certificate_chain: { filename: files.cert },
            private_key: { filename: files.key },
            // A rotation swaps `current` in this directory: Envoy re-reads both files.
            watched_directory: { path: files.dir },
          },
        },
      ],
    }),
  );
  writeAtomic(
    files.sdsCa,
    stringify({
      resources: [
        {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
          name: CA_SECRET,
          validation_context: { trusted_ca: { filename: ca.cert } },
        },
      ],
    }),
  );
}

/** Issues (or re-issues: rotation) one node's client certificate and writes its SDS files. */
export function issueNodeCert(dir: string, id: string, opts: PkiOptions = {}): NodeTlsFiles {
  const layout = pkiLayout(dir);
  const files = layout.node(id);
  mkdirSync(files.dir, { recursive: true });
  issueLeaf(layout.ca, files.dir, id, clientExt(id), opts.leafDays ?? 90);
  writeNodeSds(dir, id);
  return files;
}

/** Issues (or re-issues) the control plane's server certificate. */
export function issueServerCert(dir: string, opts: PkiOptions = {}): CertFiles {
  const layout = pkiLayout(dir);
  issueLeaf(layout.ca, join(dir, 'server'), CONTROL_PLANE_SAN, SERVER_EXT, opts.leafDays ?? 90);
  return layout.server;
}

export function pkiExists(dir: string): boolean {
  const l = pkiLayout(dir);
  return existsSync(l.ca.cert) && existsSync(l.ca.key) && existsSync(l.server.cert);
}

export function nodeCertExists(dir: string, id: string): boolean {
  const f = pkiLayout(dir).node(id);
  return existsSync(f.cert) && existsSync(f.sdsCert) && existsSync(f.sdsCa);
}

/**
 * Creates the PKI if it is missing (CA, server certificate) and a certificate for each node that
 * has none. Idempotent and safe when two processes run it at once (the dev stack's control plane
 * and Envoys): the CA is built in a temporary directory and renamed into place; the loser of the
 * race uses the winner's. Returns the node ids it issued.
 */
export function ensurePki(dir: string, nodeIds: string[], opts: PkiOptions = {}): string[] {
  if (!pkiExists(dir)) {
    mkdirSync(dirname(dir), { recursive: true });
    const tmp = tmpName(dir);
    try {
      createCa(pkiLayout(tmp).ca, opts.caDays ?? 3650);
      // Leaves are issued after the rename (their SDS files carry absolute paths).
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (!pkiLayoutHasCa(dir)) throw err;
    }
  }
  withLock(dir, () => {
    if (!existsSync(pkiLayout(dir).server.cert)) issueServerCert(dir, opts);
  });
  const issued: string[] = [];
  for (const id of nodeIds) {
    withLock(dir, () => {
      if (nodeCertExists(dir, id)) return;
      issueNodeCert(dir, id, opts);
      issued.push(id);
    });
  }
  return issued;
}

function pkiLayoutHasCa(dir: string): boolean {
  const ca = pkiLayout(dir).ca;
  return existsSync(ca.cert) && existsSync(ca.key);
}

/** A mkdir lock in the PKI directory (stale after 30 s: a crashed holder). */
function withLock(dir: string, fn: () => void): void {
  const lock = join(dir, '.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`PKI ${dir}: lock ${lock} held too long`);
      try {
        const age = Date.now() - Number(readlinkSafe(lock));
        if (age > 30_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // raced with its removal
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    writeFileSync(join(lock, 'since'), String(Date.now()));
    fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readlinkSafe(lock: string): string {
  try {
    return readFileSync(join(lock, 'since'), 'utf8');
  } catch {
    return String(Date.now());
  }
}

/** Rotation: new server certificate and a new certificate for every node (same CA). */
export function rotatePki(
  dir: string,
  opts: PkiOptions = {},
): { server: boolean; nodes: string[] } {
  if (!pkiExists(dir)) throw new Error(`no PKI in ${dir}: run init first`);
  const nodesDir = join(dir, 'nodes');
  const nodes = existsSync(nodesDir) ? readdirSync(nodesDir).filter((n) => NODE_ID_RE.test(n)) : [];
  withLock(dir, () => {
    issueServerCert(dir, opts);
    for (const id of nodes) issueNodeCert(dir, id, opts);
  });
  return { server: true, nodes };
}
