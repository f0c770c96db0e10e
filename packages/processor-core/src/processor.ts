import type { StreamContext } from './context';
import { unionModes, type ProcessingModeSpec } from './mode';
import type { BodyPhase, HeadersPhase, TrailersPhase } from './phase';

/** What a hook may return: nothing, synchronously or as a promise. */
export type HookResult = void | Promise<void>;

/**
 * What happens when a hook throws or rejects:
 * - `{ status }`: answer the client with an immediate JSON error (500 or 503 typically);
 * - `'continue'`: let the request through unchanged by this message (fail open).
 * Either way one log line with the request id is written; the stream and process live on.
 */
/**
 * What a hook failure becomes: `'continue'` (fail open), or an immediate JSON error reply with
 * `status` and `details` (default `ProcessorError The request could not be processed`).
 */
export type ErrorPolicy = 'continue' | { status: number; details?: string };

/**
 * An ext_proc processor: implement only the phases you need. `mode` declares the smallest
 * processing mode it needs (used to build Envoy config, to compose processors and, with
 * `enforceMode`, sent to Envoy as a mode override).
 */
export interface Processor<TState extends object = Record<string, unknown>> {
  readonly name: string;
  readonly mode?: ProcessingModeSpec;
  /** Overrides the server's error policy for this processor. */
  readonly errorPolicy?: ErrorPolicy;
  /** A fresh state bag for each stream (default `{}`). */
  createState?(): TState;
  onRequestHeaders?(ctx: StreamContext<TState>, phase: HeadersPhase): HookResult;
  onRequestBody?(ctx: StreamContext<TState>, phase: BodyPhase): HookResult;
  onRequestTrailers?(ctx: StreamContext<TState>, phase: TrailersPhase): HookResult;
  onResponseHeaders?(ctx: StreamContext<TState>, phase: HeadersPhase): HookResult;
  onResponseBody?(ctx: StreamContext<TState>, phase: BodyPhase): HookResult;
  onResponseTrailers?(ctx: StreamContext<TState>, phase: TrailersPhase): HookResult;
  /** Called once when the ext_proc stream ends (completed, reset or failed). Must not throw. */
  onStreamEnd?(ctx: StreamContext<TState>): void;
}

/** Any processor, whatever its state type (for lists of processors). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProcessor = Processor<any>;

/**
 * The no-op base: extend it and override only the hooks you need. Its `mode` is the
 * smallest one (request headers only).
 */
export abstract class BaseProcessor<
  TState extends object = Record<string, unknown>,
> implements Processor<TState> {
  abstract readonly name: string;
  readonly mode: ProcessingModeSpec = { requestHeaders: 'send' };
}

export const HOOKS = [
  'onRequestHeaders',
  'onRequestBody',
  'onRequestTrailers',
  'onResponseHeaders',
  'onResponseBody',
  'onResponseTrailers',
] as const;
export type HookName = (typeof HOOKS)[number];

/** A chain of processors run in one ext_proc stream (the unit a server serves). */
export interface Composition {
  readonly name: string;
  readonly processors: readonly AnyProcessor[];
  readonly mode: Required<ProcessingModeSpec>;
}

const COMPOSED = Symbol('edge.composition');

/**
 * Runs several processors in one ext_proc stream, in order, stopping at the first immediate
 * response. Each keeps its own state; the mode is the union of theirs. Header mutations of an
 * earlier processor are visible to later ones through `phase.headers`.
 */
export function compose(processors: readonly AnyProcessor[], name?: string): Composition {
  if (processors.length === 0) throw new Error('compose() needs at least one processor');
  const c: Composition & { [COMPOSED]: true } = {
    name: name ?? processors.map((p) => p.name).join('+'),
    processors,
    mode: unionModes(processors.map((p) => p.mode)),
    [COMPOSED]: true,
  };
  return c;
}

export function isComposition(x: AnyProcessor | Composition): x is Composition {
  return (x as { [COMPOSED]?: true })[COMPOSED] === true;
}

export function asComposition(x: AnyProcessor | Composition): Composition {
  return isComposition(x) ? x : compose([x], x.name);
}
