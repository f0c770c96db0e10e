import { describe, expect, it } from 'vitest';
import { nameProblem, valueProblem } from './field-syntax';

describe('RFC 9110 field syntax', () => {
  it.each(['x-a', 'X-Workload-Token', "!#$%&'*+-.^_`|~09az", 'a'.repeat(256)])(
    'accepts the name %s',
    (name) => expect(nameProblem(name)).toBeUndefined(),
  );

  it.each([
    ['', 'empty name'],
    ['a b', 'name is not an RFC 9110 token'],
    ['x:y', 'name is not an RFC 9110 token'],
    [':authority', 'name is not an RFC 9110 token'],
    ['x\u00e9', 'name is not an RFC 9110 token'],
    ['a'.repeat(257), 'name longer than 256 bytes'],
    ['Host', 'reserved name'],
    ['transfer-encoding', 'reserved name'],
  ])('refuses the name %j (%s)', (name, why) => expect(nameProblem(name)).toBe(why));

  it.each(['', 'v', 'a b\tc', 'eyJhbGciOi.x-y_z', 'caf\u00e9', '"quoted", list'])(
    'accepts the value %j',
    (value) => expect(valueProblem(value)).toBeUndefined(),
  );

  it.each([
    [' lead', 'value has leading or trailing whitespace'],
    ['trail\t', 'value has leading or trailing whitespace'],
    ['a\nb', 'value has a control character'],
    ['a\r\nX-Injected: 1', 'value has a control character'],
    ['a\u0000b', 'value has a control character'],
    ['a\u007fb', 'value has a control character'],
    ['\u20ac', 'value has a character outside ISO-8859-1'],
    ['v'.repeat(8193), 'value longer than 8192 bytes'],
  ])('refuses the value %j (%s)', (value, why) => expect(valueProblem(value)).toBe(why));
});
