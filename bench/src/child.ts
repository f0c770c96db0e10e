import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * Forks one of the bench's own scripts (`dist/<script>`) and resolves once it reports ready
 * over IPC (its first message); rejects if it exits first.
 */
export function forkReady(
  script: string,
  args: readonly (string | number)[],
  execArgv: string[] = [],
): Promise<ChildProcess> {
  const c = fork(join(__dirname, script), args.map(String), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  return new Promise((resolve, reject) => {
    c.once('message', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}
