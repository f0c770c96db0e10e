import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, PORT_RESERVATIONS_DIR, reservePort, sweepReservations } from './net';

describe('port reservations (machine-wide, one file per port)', () => {
  it('freePort reserves what it hands out, under this process id', async () => {
    const port = await freePort();
    expect(readFileSync(join(PORT_RESERVATIONS_DIR, String(port)), 'utf8')).toBe(
      String(process.pid),
    );
    // Never handed out twice, by this process or (through the file) by another.
    expect(reservePort(port)).toBe(false);
  });

  it("another live process's port is refused; a dead process's reservation is cleared", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ports-'));
    expect(reservePort(20001, dir)).toBe(true);
    expect(reservePort(20001, dir)).toBe(false);

    // The parent (the vitest runner) is alive: its reservation holds.
    writeFileSync(join(dir, '20002'), String(process.ppid));
    expect(reservePort(20002, dir)).toBe(false);
    expect(existsSync(join(dir, '20002'))).toBe(true);

    // A process that has exited: its file is removed, and the port is free on the next call.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
      encoding: 'utf8',
    }).stdout.trim();
    writeFileSync(join(dir, '20003'), dead);
    expect(reservePort(20003, dir)).toBe(false);
    expect(existsSync(join(dir, '20003'))).toBe(false);
    expect(reservePort(20003, dir)).toBe(true);
  });

  it("a sweep removes only dead processes' reservations", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ports-'));
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
      encoding: 'utf8',
    }).stdout.trim();
    writeFileSync(join(dir, '20011'), dead);
    writeFileSync(join(dir, '20012'), String(process.ppid));
    expect(reservePort(20013, dir)).toBe(true);
    expect(sweepReservations(dir)).toBe(1);
    expect(existsSync(join(dir, '20011'))).toBe(false);
    expect(existsSync(join(dir, '20012'))).toBe(true);
    expect(existsSync(join(dir, '20013'))).toBe(true);
  });
});
