// Generates TypeScript (ts-proto, with @grpc/grpc-js service definitions) with buf for:
//  - the project's own protos in <repo>/proto
//  - the Envoy APIs the project speaks (envoy.service.ext_proc.v3, and everything it imports,
//    and envoy.service.accesslog.v3 (the gRPC access log service).
// Envoy's .proto sources come from the npm package @grpc/grpc-js-xds, which ships the
// envoy-api, xds, udpa (inside xds/), googleapis and protoc-gen-validate trees under deps/.
// Nothing is copied into the repo: a throw-away buf workspace is assembled in a temp dir.
// Output goes to src/gen (ignored by git, never edited by hand).
// For the xDS management server (@edge/xds-server) the same workspace also yields, in src/gen-es
// (ignored by git, never edited by hand):
//  - protobuf-es (@bufbuild/protoc-gen-es) TypeScript for envoy.service.discovery.v3 (ADS) and
//    its imports: the discovery protocol messages, spoken through generated types;
//  - envoy-api.binpb: one binary FileDescriptorSet of every Envoy, xds and udpa API file, from
//    which a protobuf-es registry resolves any resource or extension type (`@type`) at run time.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
  mkdirSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeEnvoyDescriptors } from './envoy-descriptors.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = resolve(here, '..');
const repoProto = resolve(pkgDir, '../../proto');
const xdsDeps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const buf = join(pkgDir, 'node_modules/.bin/buf');
const tsProto = join(pkgDir, 'node_modules/.bin/protoc-gen-ts_proto');
const out = join(pkgDir, 'src/gen');
const esPlugin = join(pkgDir, 'node_modules/.bin/protoc-gen-es');
const outEs = join(pkgDir, 'src/gen-es');
// protobuf-es entry points (their imports come along).
const esPaths = ['envoy/service/discovery/v3/ads.proto'];

// Envoy entry points we generate; their imports come along (include_imports).
const envoyPaths = [
  'envoy/service/ext_proc/v3/external_processor.proto',
  // The gRPC access log service: apps/logging-processor completes records of local replies.
  'envoy/service/accesslog/v3/als.proto',
];

const work = mkdtempSync(join(tmpdir(), 'edge-protos-'));
try {
  const modules = {
    project: repoProto,
    'envoy-api': join(xdsDeps, 'envoy-api'),
    xds: join(xdsDeps, 'xds'),
    googleapis: join(xdsDeps, 'googleapis'),
    'protoc-gen-validate': join(xdsDeps, 'protoc-gen-validate'),
  };
  for (const [name, src] of Object.entries(modules)) {
    if (!existsSync(src)) throw new Error(`proto source missing: ${src}`);
    cpSync(src, join(work, name), {
      recursive: true,
      filter: (p) => !/\/(test|tests|bazel|examples)(\/|$)/.test(p.slice(src.length)),
    });
  }
  // The project module keeps its own lint config; the vendored ones are only inputs.
  rmSync(join(work, 'project/buf.yaml'), { force: true });
  writeFileSync(
    join(work, 'buf.yaml'),
    ['version: v2', 'modules:', ...Object.keys(modules).map((m) => `  - path: ${m}`), ''].join(
      '\n',
    ),
  );
  const projectFiles = execFileSync('find', ['.', '-name', '*.proto'], {
    cwd: join(work, 'project'),
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .map((p) => join('project', p));
  const opts = [
    'outputServices=grpc-js',
    'env=node',
    'esModuleInterop=true',
    'oneof=unions-value',
    'forceLong=number',
    'useOptionals=none',
    'outputJsonMethods=false',
    'outputPartialMethods=true',
  ];
  writeFileSync(
    join(work, 'buf.gen.yaml'),
    [
      'version: v2',
      'plugins:',
      `  - local: ${tsProto}`,
      `    out: ${out}`,
      '    include_imports: true',
      `    opt: [${opts.join(', ')}]`,
      '',
    ].join('\n'),
  );
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const paths = [...envoyPaths.map((p) => join('envoy-api', p)), ...projectFiles];
  execFileSync(buf, ['generate', '.', ...paths.flatMap((p) => ['--path', p])], {
    cwd: work,
    stdio: 'inherit',
  });
  console.log(`protos: generated into ${out}`);

  writeFileSync(
    join(work, 'buf.gen.es.yaml'),
    [
      'version: v2',
      'plugins:',
      `  - local: ${esPlugin}`,
      `    out: ${outEs}`,
      '    include_imports: true',
      '    opt: [target=ts, import_extension=js]',
      '',
    ].join('\n'),
  );
  rmSync(outEs, { recursive: true, force: true });
  mkdirSync(outEs, { recursive: true });
  execFileSync(
    buf,
    [
      'generate',
      '.',
      '--template',
      'buf.gen.es.yaml',
      ...esPaths.flatMap((p) => ['--path', join('envoy-api', p)]),
    ],
    { cwd: work, stdio: 'inherit' },
  );
  // Every Envoy v3 API file and its imports, without source info. Two gaps in deps/ are bridged
  // in the throw-away copy only: its protoc-gen-validate predates StringRules.ignore_empty
  // (field 26 upstream; the validation annotations do not change any wire type), and the
  // OpenCensus/OpenTelemetry/Prometheus protos are absent, so the few files that import them
  // (directly or not) are left out (v2 leftovers in deps/ are incomplete too: v3 only).
  const validateProto = join(work, 'protoc-gen-validate/validate/validate.proto');
  writeFileSync(
    validateProto,
    readFileSync(validateProto, 'utf8').replace(
      /(message StringRules \{)/,
      '$1\n  optional bool ignore_empty = 26;',
    ),
  );
  const v3Files = execFileSync('find', ['envoy', '-path', '*/v3/*.proto'], {
    cwd: join(work, 'envoy-api'),
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  const importsOf = new Map(
    v3Files.map((f) => [
      f,
      [
        ...readFileSync(join(work, 'envoy-api', f), 'utf8').matchAll(
          /^import (?:public |weak )?"([^"]+)";/gm,
        ),
      ].map((m) => m[1]),
    ]),
  );
  const missing = (f, seen = new Set()) => {
    if (seen.has(f)) return false;
    seen.add(f);
    return (importsOf.get(f) ?? []).some(
      (i) => /^(opencensus|opentelemetry|io\/prometheus)\//.test(i) || missing(i, seen),
    );
  };
  const imageFiles = v3Files.filter((f) => !missing(f)).map((f) => join('envoy-api', f));
  execFileSync(
    buf,
    [
      'build',
      '.',
      '--exclude-source-info',
      '-o',
      join(outEs, 'envoy-api.binpb'),
      ...imageFiles.flatMap((p) => ['--path', p]),
    ],
    { cwd: work, stdio: 'inherit' },
  );
  // Replaced by the set of the Envoy version the project runs (see envoy-descriptors.mjs).
  writeEnvoyDescriptors(join(outEs, 'envoy-api.binpb'));
  console.log(`protos: generated protobuf-es and the Envoy API descriptor set into ${outEs}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
