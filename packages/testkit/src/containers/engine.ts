import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type ContainerRuntimeClient, getContainerRuntimeClient, ImageName } from 'testcontainers';
import { pidAlive } from '../pid';

/** Every container the testkit starts carries these labels (the sweep and test.sh look for them). */
export const LABEL = 'edge.testkit';
export const LABEL_PID = 'edge.testkit.pid';

/** Image of a part: `edge/<name>:<tag>`, built by deploy/docker/build-images.sh. */
export function imageName(name: string, tag: string): string {
  return `edge/${name}:${tag}`;
}

/** A unique, readable container name: edge-<name>-<pid>-<random>. */
export function containerName(name: string, pid = process.pid): string {
  return `edge-${name.replace(/[^a-zA-Z0-9_.-]/g, '-')}-${pid}-${randomBytes(3).toString('hex')}`;
}

let client: Promise<ContainerRuntimeClient> | undefined;

/**
 * The Docker engine, reached once per process. testcontainers' reaper (Ryuk) is an image from a
 * registry, so it is off: the testkit removes its own containers on stop(), at process exit, and
 * sweeps containers of dead test processes here. Fails loudly when no engine answers.
 */
export function engine(): Promise<ContainerRuntimeClient> {
  client ??= (async () => {
    // testcontainers reads its settings from the environment. The reaper must be off here, and
    // with host networking only (no bridge network exists) every container is on loopback.
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
    let c: ContainerRuntimeClient;
    try {
      c = await getContainerRuntimeClient();
    } catch (err) {
      throw new Error(
        `testcontainers backend: cannot reach the Docker engine (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'}): ` +
          `${err instanceof Error ? err.message : String(err)}. ` +
          'Start one with `source scripts/docker-engine.sh && edge_docker_up` (./scripts/test.sh does).',
        { cause: err },
      );
    }
    await sweepDeadOwners(c);
    return c;
  })();
  client.catch(() => (client = undefined));
  return client;
}

/** Removes testkit containers whose test process is gone (it was killed before its cleanup). */
async function sweepDeadOwners(c: ContainerRuntimeClient): Promise<void> {
  const mine = (await c.container.list()).filter((info) => info.Labels[LABEL] === '1');
  for (const info of mine) {
    const owner = Number(info.Labels[LABEL_PID]);
    if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
      await c.container
        .remove(c.container.getById(info.Id), { removeVolumes: true })
        .catch(() => undefined);
    }
  }
}

/** Throws a clear error when a locally built image is missing (nothing can be pulled here). */
export async function requireImage(c: ContainerRuntimeClient, image: string): Promise<void> {
  if (!(await c.image.exists(ImageName.fromString(image)))) {
    throw new Error(
      `testcontainers backend: image ${image} is not on the Docker engine; build the images with deploy/docker/build-images.sh`,
    );
  }
}

/** Synchronous removal for process-exit handlers (the docker CLI, since 'exit' cannot await). */
export function removeNow(ids: string[]): void {
  if (ids.length === 0) return;
  try {
    execFileSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    // best effort: the next run's sweep removes what is left
  }
}
