import { describe, expect, it } from 'vitest';
import { certificateNamesNode, nodeSpiffeId } from './pki';

const cert = (cn: string | string[] | undefined, san?: string) => ({
  subject: cn === undefined ? {} : { CN: cn },
  ...(san !== undefined ? { subjectaltname: san } : {}),
});

describe('certificateNamesNode', () => {
  it('accepts a certificate whose CN and SPIFFE URI SAN are the node id', () => {
    expect(certificateNamesNode('node-a', cert('node-a', `URI:${nodeSpiffeId('node-a')}`))).toBe(
      true,
    );
    expect(
      certificateNamesNode('node-a', cert('node-a', `DNS:x, URI:spiffe://edge/xds-node/node-a`)),
    ).toBe(true);
  });

  it("refuses another node's certificate, a missing one, a missing SAN and odd ids", () => {
    const a = cert('node-a', `URI:${nodeSpiffeId('node-a')}`);
    expect(certificateNamesNode('node-b', a)).toBe(`the client certificate's CN is "node-a"`);
    expect(certificateNamesNode('node-a', undefined)).toBe('no verified client certificate');
    expect(certificateNamesNode('node-a', cert('node-a'))).toBe(
      'the client certificate (CN "node-a") has no SAN spiffe://edge/xds-node/node-a',
    );
    // the SAN of another node, a prefix, or the SPIFFE id as a DNS name is not enough
    expect(
      certificateNamesNode('node-a', cert('node-a', `URI:${nodeSpiffeId('node-ab')}`)),
    ).not.toBe(true);
    expect(
      certificateNamesNode('node-a', cert('node-a', `DNS:${nodeSpiffeId('node-a')}`)),
    ).not.toBe(true);
    expect(certificateNamesNode('node-a', cert(['node-a', 'node-b']))).toBe(
      `the client certificate's CN is ["node-a","node-b"]`,
    );
    expect(certificateNamesNode('node-a', cert(undefined))).toBe(
      "the client certificate's CN is null",
    );
    expect(
      certificateNamesNode('A/../b', cert('A/../b', 'URI:spiffe://edge/xds-node/A/../b')),
    ).toBe('not a valid node id');
    expect(
      certificateNamesNode(
        'a, URI:spiffe://edge/xds-node/a',
        cert('a', `URI:${nodeSpiffeId('a')}`),
      ),
    ).toBe('not a valid node id');
  });
});
