// The Envoy API descriptor set (src/gen-es/envoy-api.binpb) at the Envoy version the project runs.
//
// Why not from @grpc/grpc-js-xds's deps/ like the rest of codegen: that copy of envoy-api is older
// than Envoy 1.36 and lacks fields the project's configs use (LocalRateLimit.rate_limits,
// max_dynamic_descriptors, PluginConfig.failure_policy ...), so protobuf-es refuses to encode
// envoy/front-proxy.yaml and envoy/sidecar.yaml. The Go module
// github.com/envoyproxy/go-control-plane/envoy is published per Envoy release with every API
// file compiled in; a throw-away Go program that imports all its packages writes the registry it
// links, as one FileDescriptorSet with every file after its imports (what protobuf-es reads).
// Needs the Go toolchain (on PATH or /usr/local/go/bin) and the Go module proxy.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** go-control-plane's envoy module for the Envoy minor the project pins (scripts/infra: 1.36). */
export const ENVOY_API_GO_MODULE = 'github.com/envoyproxy/go-control-plane/envoy';
export const ENVOY_API_GO_VERSION = 'v1.36.0';

function goBin() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error(
    'protos: the Go toolchain is needed for the Envoy API descriptor set (go not found)',
  );
}

function packageDirs(root, dir = '') {
  const out = [];
  let hasPb = false;
  for (const e of readdirSync(join(root, dir))) {
    const rel = dir ? `${dir}/${e}` : e;
    if (statSync(join(root, rel)).isDirectory()) out.push(...packageDirs(root, rel));
    else if (e.endsWith('.pb.go')) hasPb = true;
  }
  if (hasPb) out.push(dir);
  return out;
}

const MAIN = (imports) => `package main

import (
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
${imports.map((p) => `\t_ "${p}"`).join('\n')}
)

func main() {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		add(fd)
		return true
	})
	b, err := proto.Marshal(set)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(b)
}
`;

/**
 * Writes the descriptor set of every Envoy API file (and its imports) to `outFile`; Go modules and
 * build cache under `gopath`.
 */
export function writeEnvoyDescriptors(outFile, gopath) {
  const go = goBin();
  const work = mkdtempSync(join(tmpdir(), 'edge-envoy-desc-'));
  // The same module and build cache as the rest of codegen (<repo>/.tools/go), kept deletable.
  const env = {
    ...process.env,
    GOPATH: gopath,
    GOCACHE: join(gopath, 'cache'),
    GOFLAGS: '-mod=mod -modcacherw',
    GOTOOLCHAIN: 'local',
  };
  try {
    writeFileSync(join(work, 'go.mod'), 'module edge.local/envoydesc\n\ngo 1.24\n');
    const mod = `${ENVOY_API_GO_MODULE}@${ENVOY_API_GO_VERSION}`;
    execFileSync(go, ['get', mod], { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] });
    const dir = JSON.parse(
      execFileSync(go, ['mod', 'download', '-json', mod], { cwd: work, env, encoding: 'utf8' }),
    ).Dir;
    const imports = packageDirs(dir).map((d) => `${ENVOY_API_GO_MODULE}/${d}`);
    writeFileSync(join(work, 'main.go'), MAIN(imports));
    const set = execFileSync(go, ['run', '.'], {
      cwd: work,
      env,
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    writeFileSync(outFile, set);
    console.log(
      `protos: Envoy API descriptor set from ${mod} (${imports.length} packages, ${set.length} bytes)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
