import { describe, expect, it } from 'vitest';
import { jsonLogger } from './logger';

describe('jsonLogger', () => {
  it('writes one JSON object per line, honouring the level', () => {
    const lines: string[] = [];
    const log = jsonLogger({ level: 'info', write: (l) => lines.push(l), base: { service: 't' } });
    log.debug({ a: 1 }, 'hidden');
    log.info({ requestId: 'r1' }, 'hello');
    log.error({ err: new Error('boom') }, 'bad');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: 'info', service: 't', requestId: 'r1', msg: 'hello' });
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[1]!).err).toMatchObject({ type: 'Error', message: 'boom' });
  });
});
