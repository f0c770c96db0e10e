import { describe, expect, it } from 'vitest';
import { envoyArgs } from './envoy';
import { kafkaJvmArgs, kafkaServerProperties, newClusterId } from './kafka';
import { postgresArgs, postgresUrl } from './postgres';
import { redisArgs } from './redis';

const after = (args: string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

describe('postgresArgs', () => {
  it('listens on loopback only, with its socket in the data dir', () => {
    const args = postgresArgs({ pgdata: '/d/pgdata', port: 5555, persistent: false });
    expect(args).toContain('listen_addresses=127.0.0.1');
    expect(args).toContain('unix_socket_directories=/d/pgdata');
    expect(after(args, '-p')).toBe('5555');
  });

  it('turns fsync off only for throwaway instances', () => {
    expect(postgresArgs({ pgdata: '/d', port: 1, persistent: false })).toContain('fsync=off');
    expect(postgresArgs({ pgdata: '/d', port: 1, persistent: true })).not.toContain('fsync=off');
  });

  it('disables the unix socket when the path would be too long for one', () => {
    const args = postgresArgs({ pgdata: `/${'x'.repeat(120)}`, port: 1, persistent: false });
    expect(args).toContain('unix_socket_directories=');
  });
});

describe('postgresUrl', () => {
  it('encodes credentials and database', () => {
    expect(
      postgresUrl({ host: '127.0.0.1', port: 1, user: 'u@', password: 'p/w', database: 'd b' }),
    ).toBe('postgres://u%40:p%2Fw@127.0.0.1:1/d%20b');
  });
});

describe('redisArgs', () => {
  it('never touches disk for a temporary instance', () => {
    const args = redisArgs({ port: 7, dir: '/d', persistent: false });
    expect(after(args, '--save')).toBe('');
    expect(after(args, '--appendonly')).toBe('no');
    expect(after(args, '--bind')).toBe('127.0.0.1');
  });

  it('keeps data for a persistent instance', () => {
    expect(after(redisArgs({ port: 7, dir: '/d', persistent: true }), '--appendonly')).toBe('yes');
  });
});

describe('kafkaServerProperties', () => {
  const props = kafkaServerProperties({ port: 9092, controllerPort: 9093, logDir: '/d/k' });

  it('is a single combined KRaft node on loopback', () => {
    expect(props).toContain('process.roles=broker,controller\n');
    expect(props).toContain('controller.quorum.voters=1@127.0.0.1:9093\n');
    expect(props).toContain('advertised.listeners=PLAINTEXT://127.0.0.1:9092\n');
    expect(props).toContain('log.dirs=/d/k\n');
  });

  it('works with one broker: replication factors 1, topics auto-created', () => {
    expect(props).toContain('offsets.topic.replication.factor=1\n');
    expect(props).toContain('transaction.state.log.replication.factor=1\n');
    expect(props).toContain('auto.create.topics.enable=true\n');
  });
});

describe('kafkaJvmArgs', () => {
  it('uses the CDS archive only when there is one', () => {
    expect(kafkaJvmArgs('/d/log4j2.properties', '/t/k.jsa')[0]).toBe(
      '-XX:SharedArchiveFile=/t/k.jsa',
    );
    expect(kafkaJvmArgs('/d/log4j2.properties').join(' ')).not.toContain('SharedArchiveFile');
    expect(kafkaJvmArgs('/d/log4j2.properties')).toContain('-Xmx512m');
  });
});

describe('newClusterId', () => {
  it('is 16 bytes as unpadded base64url (22 chars)', () => {
    expect(newClusterId(Buffer.alloc(16, 0x00))).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    expect(newClusterId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('never starts with "-" (kafka-storage would read the id as an option)', () => {
    // 0xf8 = 111110xx: base64url index 62 = '-' as the first character.
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(newClusterId(Buffer.alloc(16, 0xf8))).not.toMatch(/^-/);
    expect(newClusterId(Buffer.alloc(16, 0xff))).toBe('f____________________w');
    for (let i = 0; i < 2000; i++) expect(newClusterId()).not.toMatch(/^-/);
  });
});

describe('envoyArgs', () => {
  const args = envoyArgs({
    configFile: '/d/envoy.yaml',
    adminPort: 9901,
    logFile: '/d/envoy.log',
    baseId: 77,
    logLevel: 'warn',
    concurrency: 1,
  });

  it('puts the admin listener on loopback over the caller config', () => {
    expect(JSON.parse(after(args, '--config-yaml')!)).toEqual({
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
    });
  });

  it('isolates instances and logs to a file', () => {
    expect(after(args, '--base-id')).toBe('77');
    expect(args).toContain('--disable-hot-restart');
    expect(after(args, '--log-path')).toBe('/d/envoy.log');
    expect(after(args, '-l')).toBe('warn');
  });
});
