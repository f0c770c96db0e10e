import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface ProcessSpec {
  /** Used in error messages, e.g. `postgres (.local/postgres-123-ab12cd34)`. */
  label: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Other log files (e.g. Envoy's --log-path) whose tail goes into error messages. */
  extraLogFiles?: string[];
  /** Run as this user (setpriv --reuid/--regid). */
  runAs?: string;
  /** Signal for a clean stop. Default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** After this, SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The last `lines` lines of a file, or a note that it is missing. */
export function tailFile(path: string, lines = 40): string {
  if (!existsSync(path)) return `(no ${path})`;
  const text = readFileSync(path, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n');
}

/** Argument vector that runs `spec` under setpriv: dies with its parent, optionally as another user. */
export function wrapWithSetpriv(setprivBin: string, spec: ProcessSpec): [string, string[]] {
  const args: string[] = [];
  if (spec.runAs) args.push(`--reuid=${spec.runAs}`, `--regid=${spec.runAs}`, '--init-groups');
  // After the uid change: the kernel clears the parent-death signal on credential changes.
  args.push('--pdeathsig', 'SIGTERM', '--', spec.command, ...spec.args);
  return [setprivBin, args];
}

const live = new Set<ManagedProcess>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when this process exits without stopping its parts (if it is killed instead,
  // the kernel sends the children SIGTERM via pdeathsig). 'exit' handlers must be synchronous.
  process.on('exit', () => {
    for (const p of live) p.killNow();
    for (const fn of exitCleanups) {
      try {
        fn();
      } catch {
        // best effort
      }
    }
  });
}

/** Registers a synchronous cleanup for process exit; returns a function that unregisters it. */
export function onExitSync(fn: () => void): () => void {
  installExitHook();
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

/** A child process with a log file, readiness-friendly exit tracking and a clean stop. */
export class ManagedProcess {
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly spec: ProcessSpec,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
  }

  static start(setprivBin: string, spec: ProcessSpec): ManagedProcess {
    installExitHook();
    const [cmd, args] = wrapWithSetpriv(setprivBin, spec);
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: false,
      });
    } finally {
      closeSync(fd);
    }
    const proc = new ManagedProcess(spec, child);
    // A spawn error (ENOENT...) surfaces as an exit for the readiness race.
    child.once('error', (err) => {
      proc.exitInfo = { code: -1, signal: null };
      proc.spawnError = err;
      child.emit('exit', -1, null);
    });
    live.add(proc);
    return proc;
  }

  spawnError: Error | undefined;

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** Log tails for error messages. */
  logTail(lines = 40): string {
    const files = [this.spec.logFile, ...(this.spec.extraLogFiles ?? [])];
    return files.map((f) => `--- ${f} (last ${lines} lines) ---\n${tailFile(f, lines)}`).join('\n');
  }

  /** An Error naming the process, the reason and the tail of its logs. */
  failure(reason: string): Error {
    return new Error(`${this.spec.label}: ${reason}\n${this.logTail()}`);
  }

  /** Stop signal, wait, then SIGKILL. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill(this.spec.stopSignal ?? 'SIGTERM');
    const timeoutMs = this.spec.stopTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Synchronous SIGKILL (for process exit handlers). */
  killNow(): void {
    if (!this.exitInfo) this.child.kill('SIGKILL');
  }
}

/**
 * Polls `check` until it returns true. Fails with the process's log tail if the process exits
 * first or the timeout passes.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const exit = proc.hasExited;
    if (exit) {
      const how = proc.spawnError
        ? `could not be started (${proc.spawnError.message})`
        : `exited (code ${exit.code}, signal ${exit.signal}) before ${what}`;
      throw proc.failure(how);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw proc.failure(`not ${what} within ${timeoutMs} ms${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs a one-shot command (initdb, storage format) to completion; throws with its log tail. */
export async function runToCompletion(
  setprivBin: string,
  spec: ProcessSpec,
  timeoutMs = 60_000,
): Promise<void> {
  const proc = ManagedProcess.start(setprivBin, { ...spec, stopSignal: 'SIGKILL' });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    await proc.stop();
    throw proc.failure(`did not finish within ${timeoutMs} ms`);
  }
  if (proc.spawnError) throw proc.failure(`could not be started (${proc.spawnError.message})`);
  if (result.code !== 0) {
    throw proc.failure(`failed (code ${result.code}, signal ${result.signal})`);
  }
}
