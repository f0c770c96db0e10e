import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { onExitSync } from '../process';
import { findRepoRoot } from '../tool-paths';
import type { Started } from '../types';
import { containerName, engine, LABEL, LABEL_PID, removeNow, requireImage } from './engine';

export interface ContainerSpec {
  /** Part name: container name, log file name, error messages. */
  name: string;
  image: string;
  env?: Record<string, string>;
  /** Replaces the image's CMD (arguments to its ENTRYPOINT). */
  command?: string[];
  /** Files written into the container before it starts. */
  files?: { content: string | Buffer; target: string }[];
  /** Host files copied in, readable by the image's unprivileged user. */
  hostFiles?: { source: string; target: string }[];
  /** Host directories mounted read-write (e.g. for a log file). */
  hostDirs?: { source: string; target: string }[];
  /** What readiness means, for the error message. */
  what: string;
  ready: () => Promise<boolean>;
  timeoutMs: number;
  intervalMs?: number;
}

/** A started container that can also be stopped and started again (outage tests). */
export interface StartedContainer<T> extends Started<T> {
  /** Stops the container's process; the container, its ports and its data stay. */
  stopProcess(): Promise<void>;
  /** Starts it again and resolves when it is ready. */
  startProcess(): Promise<void>;
}

/** `<repo>/.local/containers`: the containers' log files. */
export function containerLogDir(): string {
  const dir = join(findRepoRoot(), '.local', 'containers');
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function tail(container: StartedTestContainer, lines = 40): Promise<string> {
  const stream = await container.logs({ tail: lines });
  let out = '';
  stream.on('data', (b: Buffer | string) => (out += b.toString()));
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('error', () => resolve());
    setTimeout(resolve, 2000);
  });
  return out.trim();
}

/**
 * Starts one container with host networking (every part listens on 127.0.0.1 like the local
 * backend), polls `ready`, and returns `stop()` which removes it. It is also removed at process
 * exit, and by the next run's sweep if this process is killed.
 */
export async function startContainer<T>(
  spec: ContainerSpec,
  info: (logFile: string, hostPid: number | undefined) => T,
): Promise<StartedContainer<T>> {
  const client = await engine();
  await requireImage(client, spec.image);
  const name = containerName(spec.name);
  const logFile = join(containerLogDir(), `${name}.log`);
  let container = new GenericContainer(spec.image)
    .withName(name)
    .withNetworkMode('host')
    .withLabels({ [LABEL]: '1', [LABEL_PID]: String(process.pid) })
    .withEnvironment(spec.env ?? {})
    // No mapped ports with host networking, so this returns at once; readiness is polled
    // below against the real protocol (faster than the images' HEALTHCHECK intervals).
    .withWaitStrategy(Wait.forListeningPorts())
    .withLogConsumer((stream) => stream.pipe(createWriteStream(logFile)));
  if (spec.command) container = container.withCommand(spec.command);
  if (spec.files?.length) container = container.withCopyContentToContainer(spec.files);
  if (spec.hostFiles?.length) {
    container = container.withCopyFilesToContainer(
      spec.hostFiles.map((f) => ({ ...f, mode: 0o444 })),
    );
  }
  if (spec.hostDirs?.length) {
    container = container.withBindMounts(spec.hostDirs.map((d) => ({ ...d, mode: 'rw' as const })));
  }
  let started: StartedTestContainer;
  try {
    started = await container.start();
  } catch (err) {
    // A container that was created but could not start is still there: remove it by name.
    removeNow([name]);
    throw new Error(
      `${spec.name}: container ${name} (${spec.image}) did not start: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const id = started.getId();
  const unregister = onExitSync(() => removeNow([id]));
  const handle = client.container.getById(id);
  const stopContainer = async (): Promise<void> => {
    // SIGTERM, then SIGKILL after 3 s (a stack has a dozen containers to stop in turn), awaited:
    // the part is down when stop() resolves.
    await client.container.stop(handle, { timeout: 3_000 }).catch(() => undefined);
    // Removal is not awaited: with the vfs storage driver it deletes a whole file system copy
    // (seconds each), which overlaps with the rest of the teardown and the next test this way. Whatever is still
    // there at process exit is removed synchronously (the exit hook stays until removal ends),
    // and the next run's sweep catches the rest.
    void client.container
      .remove(handle, { removeVolumes: true })
      .catch(() => undefined)
      .finally(unregister);
  };

  const waitReady = async (): Promise<void> => {
    const deadline = Date.now() + spec.timeoutMs;
    let lastError: unknown;
    for (;;) {
      const state = await client.container
        .inspect(client.container.getById(id))
        .then((i) => i.State)
        .catch(() => undefined);
      if (!state?.Running) {
        const logs = await tail(started).catch(() => '');
        throw new Error(
          `${spec.name} (container ${name}, ${spec.image}) exited (code ${state?.ExitCode ?? '?'}) before ${spec.what}\n${logs}`,
        );
      }
      try {
        if (await spec.ready()) return;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() > deadline) {
        const logs = await tail(started).catch(() => '');
        const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
        throw new Error(
          `${spec.name} (container ${name}, ${spec.image}) not ${spec.what} within ${spec.timeoutMs} ms${detail}\n${logs}`,
        );
      }
      await new Promise((r) => setTimeout(r, spec.intervalMs ?? 100));
    }
  };
  try {
    await waitReady();
  } catch (err) {
    await stopContainer();
    throw err;
  }

  // The container's main process as the host sees it (same machine): tests that SIGKILL a part
  // or read its CPU time use it like a local process id.
  const hostPid = await client.container
    .inspect(client.container.getById(id))
    .then((i) => (i.State.Pid > 0 ? i.State.Pid : undefined))
    .catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    info: info(logFile, hostPid),
    stop: () => (stopping ??= stopContainer()),
    // The container (and its volumes) stays: the same ports and data when it starts again.
    stopProcess: () => client.container.stop(client.container.getById(id), { timeout: 15_000 }),
    startProcess: async () => {
      await client.container.start(client.container.getById(id));
      await waitReady();
    },
  };
}
