import { createHash } from 'node:crypto';
import { fromJson, toBinary, toJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { envoyApiRegistry } from '@edge/protos/xds';
import { LRUCache } from 'lru-cache';
import type { ConsistencyIssue, ResourceJson } from './snapshot';
import { messageTypeName, type TypeUrlValue, TypeUrl } from './type-url';

/** One resource, encoded once when its snapshot is set. */
export interface EncodedResource {
  name: string;
  /** Content hash of the encoded bytes: the resource's version (delta) and part of the type's. */
  version: string;
  /** The serialized resource (the `value` of its google.protobuf.Any). */
  bytes: Uint8Array;
  /** Canonical proto3 JSON with proto field names (snake_case), what the consistency check reads. */
  canonical: JsonObject;
}

/** The field holding a resource's name, per type. */
export function nameField(typeUrl: TypeUrlValue): string {
  return typeUrl === TypeUrl.Endpoint ? 'cluster_name' : 'name';
}

const CAMEL_NAME: Record<string, string> = { name: 'name', cluster_name: 'clusterName' };

/**
 * Encoded resources by their JSON text: many nodes usually share most resources (every sidecar
 * the same clusters), so a resource is encoded once, not once per node. Failures are not kept.
 */
const encoded = new LRUCache<string, EncodedResource>({ max: 20_000 });

/**
 * Encodes one resource given in Envoy's JSON form (snake_case or lowerCamel field names, `@type`
 * on Any fields, "1s" durations) with the registry of every Envoy v3 type. The name inside the
 * value is filled from `resource.name` when absent and must match when present.
 */
export function encodeResource(
  typeUrl: TypeUrlValue,
  resource: ResourceJson,
): { ok: true; encoded: EncodedResource } | { ok: false; issue: ConsistencyIssue } {
  const fail = (field: string, message: string) => ({
    ok: false as const,
    issue: { typeUrl, name: String(resource?.name), field, message },
  });
  if (typeof resource?.name !== 'string' || resource.name === '') {
    return fail('name', 'a resource needs a non-empty string name');
  }
  if (
    resource.value === null ||
    typeof resource.value !== 'object' ||
    Array.isArray(resource.value)
  ) {
    return fail('value', 'the resource value must be a JSON object');
  }
  const registry = envoyApiRegistry();
  const schema = registry.getMessage(messageTypeName(typeUrl));
  if (!schema) return fail('@type', `${typeUrl} is not in the Envoy API registry`);
  const nf = nameField(typeUrl);
  const given = resource.value[nf] ?? resource.value[CAMEL_NAME[nf] ?? nf];
  if (given !== undefined && given !== resource.name) {
    return fail(nf, `is ${JSON.stringify(given)} but the resource is named "${resource.name}"`);
  }
  const value = given === undefined ? { ...resource.value, [nf]: resource.name } : resource.value;
  let key: string;
  try {
    key = `${typeUrl}\n${JSON.stringify(value)}`;
  } catch (err) {
    return fail('value', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const hit = encoded.get(key);
  if (hit) return { ok: true, encoded: hit };
  try {
    const msg = fromJson(schema, value as JsonValue, { registry });
    const bytes = toBinary(schema, msg);
    const canonical = toJson(schema, msg, { registry, useProtoFieldName: true }) as JsonObject;
    const version = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const result = { name: resource.name, version, bytes, canonical };
    encoded.set(key, result);
    return { ok: true, encoded: result };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return fail(fieldOfDecodeError(message), message);
  }
}

/** The field a protobuf-es JSON decoding error names (`Type.field`), best effort. */
export function fieldOfDecodeError(message: string): string {
  const field = /cannot decode field ([\w.]+)/.exec(message);
  const key = /cannot decode message ([\w.]+) from JSON: key "([^"]+)" is unknown/.exec(message);
  if (key?.[1] && key[2]) return `${key[1]}.${key[2]}`;
  if (/is not in the type registry|"@type"/.test(message)) {
    const msgName = /cannot decode message ([\w.]+)/.exec(message);
    return msgName?.[1] ? `${msgName[1]}.@type` : '@type';
  }
  if (field?.[1]) return field[1];
  const msgName = /cannot decode message ([\w.]+)/.exec(message);
  return msgName?.[1] ?? 'value';
}

/** A type's version: a hash over its resources' names and versions, independent of their order. */
export function typeVersion(resources: Iterable<EncodedResource>): string {
  const h = createHash('sha256');
  for (const r of [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    h.update(r.name).update('\0').update(r.version).update('\n');
  }
  return h.digest('hex').slice(0, 16);
}
