import { describe, expect, it } from 'vitest';
import { parseMetadataText } from './text-format';

describe('parseMetadataText (xds.route_metadata as Envoy sends it)', () => {
  it('reads filter_metadata Structs with every value kind', () => {
    const text =
      'filter_metadata { key: "edge.route" value { fields { key: "scopes" value { list_value { values { string_value: "keys:read" } values { string_value: "a \\"q\\"" } } } } ' +
      'fields { key: "n" value { number_value: 2.5 } } fields { key: "on" value { bool_value: true } } fields { key: "nil" value { null_value: NULL_VALUE } } ' +
      'fields { key: "obj" value { struct_value { fields { key: "x" value { string_value: "y" } } } } } } } ' +
      'filter_metadata { key: "other" value { } }';
    expect(parseMetadataText(text)).toEqual({
      'edge.route': {
        scopes: ['keys:read', 'a "q"'],
        n: 2.5,
        on: true,
        nil: null,
        obj: { x: 'y' },
      },
      other: {},
    });
  });

  it('is empty for an empty attribute', () => {
    expect(parseMetadataText('')).toEqual({});
  });
});
