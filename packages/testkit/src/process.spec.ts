import { describe, expect, it } from 'vitest';
import { wrapWithSetpriv } from './process';

const spec = { label: 'x', command: '/bin/srv', args: ['-p', '1'], logFile: '/tmp/x.log' };

describe('wrapWithSetpriv', () => {
  it('makes the child die with its parent', () => {
    expect(wrapWithSetpriv('/usr/bin/setpriv', spec)).toEqual([
      '/usr/bin/setpriv',
      ['--pdeathsig', 'SIGTERM', '--', '/bin/srv', '-p', '1'],
    ]);
  });

  it('switches user before setting the death signal (a uid change clears it)', () => {
    const [, args] = wrapWithSetpriv('/usr/bin/setpriv', { ...spec, runAs: 'postgres' });
    expect(args.slice(0, 5)).toEqual([
      '--reuid=postgres',
      '--regid=postgres',
      '--init-groups',
      '--pdeathsig',
      'SIGTERM',
    ]);
  });
});
