// The xDS side of @edge/protos (protobuf-es), used by @edge/xds-server:
//  - the discovery protocol messages (envoy.service.discovery.v3), as generated schemas;
//  - envoyApiRegistry(): a protobuf-es registry of every Envoy v3 API type (resources and every
//    extension an `@type` can name), read from the binary FileDescriptorSet that `pnpm codegen`
//    writes beside the generated code (src/gen-es/envoy-api.binpb, copied into dist by build).
// Everything under ./gen-es is generated and never edited by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileRegistry, fromBinary, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

export * from './gen-es/envoy/service/discovery/v3/discovery_pb.js';
export * from './gen-es/envoy/service/discovery/v3/ads_pb.js';
export { NodeSchema, type Node } from './gen-es/envoy/config/core/v3/base_pb.js';

let registry: FileRegistry | undefined;

/** The registry of every Envoy v3 API message (loaded once, on first use). */
export function envoyApiRegistry(): FileRegistry {
  registry ??= createFileRegistry(
    fromBinary(FileDescriptorSetSchema, readFileSync(join(__dirname, 'gen-es', 'envoy-api.binpb'))),
  );
  return registry;
}
