/**
 * Which processors ran for a request: `logging` itself, then processors recognised from their
 * dynamic metadata (`edge.<name>`), from Envoy's response code details (`<name>_<Code>`, set on
 * their immediate responses) and from the `x-ext-procs-applied` response header processor-core
 * can add. `authn` also when an identity was read.
 */
export function processorsThatRan(
  known: ReadonlySet<string>,
  metadata: Readonly<Record<string, unknown>>,
  details: string,
  authenticated: boolean,
  applied: string | undefined,
): string[] {
  const out = ['logging'];
  const add = (n: string) => {
    if (n !== '' && !out.includes(n)) out.push(n);
  };
  if (authenticated) add('authn');
  for (const ns of Object.keys(metadata)) {
    if (ns.startsWith('edge.') && known.has(ns.slice(5))) add(ns.slice(5));
  }
  const m = /^([a-z][a-z0-9-]*)_/.exec(details);
  if (m !== null && known.has(m[1]!)) add(m[1]!);
  if (applied !== undefined) for (const n of applied.split(',')) add(n.trim());
  return out;
}
