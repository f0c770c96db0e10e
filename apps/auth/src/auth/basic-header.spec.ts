import { describe, expect, it } from 'vitest';
import { parseBasic, splitAuthorization } from './basic-header';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('splitAuthorization', () => {
  it('splits scheme (case-insensitive) and value', () => {
    expect(splitAuthorization('Basic abc')).toEqual({ scheme: 'basic', value: 'abc' });
    expect(splitAuthorization('bearer   x.y.z ')).toEqual({ scheme: 'bearer', value: 'x.y.z' });
    expect(splitAuthorization('Basic')).toEqual({ scheme: 'basic', value: '' });
    expect(splitAuthorization(undefined)).toBeUndefined();
    expect(splitAuthorization('  ')).toBeUndefined();
  });
});

describe('parseBasic', () => {
  it('parses id:secret, splitting on the first colon', () => {
    expect(parseBasic(b64('ak_1:s3cr:et'))).toEqual({ ok: true, id: 'ak_1', secret: 's3cr:et' });
  });

  it('names what is wrong', () => {
    expect(parseBasic('')).toEqual({ ok: false, reason: 'NoCredentials' });
    expect(parseBasic('!!!not-base64')).toEqual({ ok: false, reason: 'MalformedBase64' });
    expect(parseBasic('abc')).toEqual({ ok: false, reason: 'MalformedBase64' });
    expect(parseBasic(b64('no-colon-here'))).toEqual({ ok: false, reason: 'NoColon' });
    expect(parseBasic(b64(':secret'))).toEqual({ ok: false, reason: 'NoCredentials' });
    expect(parseBasic(b64('id:'))).toEqual({ ok: false, reason: 'NoCredentials' });
  });
});
