// The xDS PKI command: `pnpm --filter @edge/control-plane pki <init|rotate|issue> ...`.
//   init <dir> <node-id>...   the CA, the server certificate, a certificate per node (idempotent)
//   issue <dir> <node-id>     a certificate for one (new) node
//   rotate <dir>              new server and node certificates under the same CA; Envoys reload
//                             theirs through their SDS file watch (no restart); restart the
//                             control plane for its own (Envoys keep serving and resync)
import { ensurePki, issueNodeCert, pkiExists, rotatePki } from '@edge/xds-pki';

function main(argv: string[]): void {
  const [cmd, dir, ...rest] = argv;
  if (!dir) throw new Error('usage: pki <init|issue|rotate> <dir> [node-id...]');
  switch (cmd) {
    case 'init': {
      const issued = ensurePki(dir, rest);
      console.log(`pki ${dir}: ready; issued [${issued.join(', ')}]`);
      return;
    }
    case 'issue': {
      if (!pkiExists(dir)) throw new Error(`no PKI in ${dir}: run init first`);
      if (rest.length !== 1) throw new Error('usage: pki issue <dir> <node-id>');
      const f = issueNodeCert(dir, rest[0]!);
      console.log(`pki ${dir}: issued ${rest[0]!} (${f.sdsCert})`);
      return;
    }
    case 'rotate': {
      const r = rotatePki(dir);
      console.log(`pki ${dir}: rotated the server certificate and [${r.nodes.join(', ')}]`);
      return;
    }
    default:
      throw new Error('usage: pki <init|issue|rotate> <dir> [node-id...]');
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
