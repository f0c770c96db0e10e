// Generates TypeScript (ts-proto, with @grpc/grpc-js service definitions) with buf for:
//  - the project's own protos in <repo>/proto
//  - the Envoy APIs the project speaks (envoy.service.ext_proc.v3, and everything it imports,
//    and envoy.service.accesslog.v3 (the gRPC access log service).
//  - Envoy Gateway's extension-server API (envoygateway.extension, apps/gateway-extension) with
//    the xDS resources its hooks carry, the filters the extension inserts (HCM, ext_proc,
//    basic_auth, router) and the static bootstrap its tests wrap a returned listener in.
// Envoy's .proto sources come from the npm package @grpc/grpc-js-xds, which ships the
// envoy-api, xds, udpa (inside xds/), googleapis and protoc-gen-validate trees under deps/.
// Envoy Gateway's come from its Go module at the version pinned in envoy-gateway.json, fetched
// with `go mod download` from the Go module proxy into <repo>/.tools/go (once; cached there).
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
const outXds = join(pkgDir, 'src/gen-xds');
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

// apps/gateway-extension, generated apart into src/gen-xds with unknownFields=true: Envoy
// Gateway's extension service (its hooks carry Listener, RouteConfiguration, Cluster, Secret),
// the filters the extension inserts (their typed_config Any payloads), the authn cluster's
// HTTP/2 protocol options, and the static bootstrap its tests load a returned listener in.
// Apart, because fields this Envoy API version does not know must survive a decode and
// re-encode of xDS built against a newer Envoy, while the ext_proc hot path keeps messages
// without an `_unknownFields` object each.
const xdsPaths = [
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto',
  'envoy/extensions/filters/http/basic_auth/v3/basic_auth.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
];

const gopath = resolve(pkgDir, '../../.tools/go');

/** A Go module from the Go module proxy, cached in <repo>/.tools/go; returns its directory. */
function goModule(path, version, probe) {
  const dir = join(gopath, 'pkg/mod', `${path}@${version}`);
  if (!existsSync(join(dir, probe))) {
    console.log(`protos: go mod download ${path}@${version} into ${gopath}`);
    execFileSync('go', ['mod', 'download', `${path}@${version}`], {
      stdio: 'inherit',
      // -modcacherw: the cache stays deletable; outside any module, a caller's GOFLAGS must not
      // turn on vendoring.
      env: {
        ...process.env,
        GOPATH: gopath,
        GOCACHE: join(gopath, 'cache'),
        GOFLAGS: '-modcacherw',
        GO111MODULE: 'on',
        GOTOOLCHAIN: 'local',
      },
    });
  }
  return dir;
}

/**
 * Envoy Gateway's Go module (pinned in envoy-gateway.json). Its proto/extension/*.proto import
 * Envoy's protos by their usual paths and each other as "proto/extension/...", so the module
 * root is the buf module root. Also returns the protoc-gen-validate version its go.mod requires:
 * the Envoy API it is built on uses validate rules (`ignore_empty` on strings) newer than the
 * validate.proto @grpc/grpc-js-xds ships, so that file comes from the same Go module graph.
 */
function envoyGatewayModule() {
  const pin = JSON.parse(readFileSync(join(pkgDir, 'envoy-gateway.json'), 'utf8'));
  const dir = goModule(pin.module, pin.version, 'proto/extension/service.proto');
  const pgv = /^\s*github\.com\/envoyproxy\/protoc-gen-validate (v\S+)/m.exec(
    readFileSync(join(dir, 'go.mod'), 'utf8'),
  );
  if (!pgv) throw new Error(`${pin.module}@${pin.version}: no protoc-gen-validate in go.mod`);
  const validate = goModule(
    'github.com/envoyproxy/protoc-gen-validate',
    pgv[1],
    'validate/validate.proto',
  );
  return { dir, validate };
}

const work = mkdtempSync(join(tmpdir(), 'edge-protos-'));
try {
  const modules = {
    project: repoProto,
    'envoy-api': join(xdsDeps, 'envoy-api'),
    xds: join(xdsDeps, 'xds'),
    googleapis: join(xdsDeps, 'googleapis'),
  };
  for (const [name, src] of Object.entries(modules)) {
    if (!existsSync(src)) throw new Error(`proto source missing: ${src}`);
    cpSync(src, join(work, name), {
      recursive: true,
      filter: (p) => !/\/(test|tests|bazel|examples)(\/|$)/.test(p.slice(src.length)),
    });
  }
  // From the Go modules, only the .proto files, at the paths they are imported by: Envoy
  // Gateway's extension API and validate/validate.proto.
  const eg = envoyGatewayModule();
  const goProtos = {
    'envoy-gateway/proto/extension': join(eg.dir, 'proto/extension'),
    'validate/validate': join(eg.validate, 'validate'),
  };
  for (const [to, from] of Object.entries(goProtos)) {
    cpSync(from, join(work, to), {
      recursive: true,
      filter: (p) => p === from || p.endsWith('.proto'),
    });
  }
  modules['envoy-gateway'] = goProtos['envoy-gateway/proto/extension'];
  modules.validate = goProtos['validate/validate'];
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
  const generate = (dir, pluginOpts, paths) => {
    const template = join(work, `buf.gen.${paths.length}.yaml`);
    writeFileSync(
      template,
      [
        'version: v2',
        'plugins:',
        `  - local: ${tsProto}`,
        `    out: ${dir}`,
        '    include_imports: true',
        `    opt: [${pluginOpts.join(', ')}]`,
        '',
      ].join('\n'),
    );
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync(
      buf,
      ['generate', '.', '--template', template, ...paths.flatMap((p) => ['--path', p])],
      { cwd: work, stdio: 'inherit' },
    );
  };
  generate(out, opts, [...envoyPaths.map((p) => join('envoy-api', p)), ...projectFiles]);
  generate(
    outXds,
    [...opts, 'unknownFields=true'],
    [...xdsPaths.map((p) => join('envoy-api', p)), 'envoy-gateway/proto/extension/service.proto'],
  );
  console.log(`protos: generated into ${out} and ${outXds}`);

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
  // Every Envoy API file at the Envoy version the project runs (see envoy-descriptors.mjs), for
  // the protobuf-es registry that resolves any resource or extension type (`@type`) at run time.
  writeEnvoyDescriptors(join(outEs, 'envoy-api.binpb'), gopath);
  console.log(`protos: generated protobuf-es and the Envoy API descriptor set into ${outEs}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
