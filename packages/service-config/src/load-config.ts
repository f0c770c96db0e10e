import { type z } from 'zod';

/** Thrown at boot when the environment does not match a service's schema. Lists every problem. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once, at boot, against a service's zod schema. Every bad or missing
 * variable is reported together (fail fast, but not one at a time). Values are never echoed,
 * since they may be secrets. This is the only place in a service that reads `process.env`.
 */
export function loadConfig<S extends z.ZodTypeAny>(
  service: string,
  schema: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data as z.infer<S>;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new ConfigError(service, problems);
}
