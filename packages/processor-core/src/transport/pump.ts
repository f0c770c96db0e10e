import type { extProc } from '@edge/protos';
import { silentLogger } from '../logger';
import { fullMode } from '../mode';
import { createStreamRuntime, ExtProcStream, type StreamStep } from '../stream';

/**
 * What a transport's call holds once its stream ended, instead of the stream: an empty, ended
 * stream shared by all. Node's HTTP/2 stream objects often outlive a scavenge (they get promoted
 * and are reclaimed only by the next mark-compact); a call still pointing at its ExtProcStream
 * made the stream's whole graph (context, state, decoded headers, answers: ~5 KB) go along with
 * them, four times what Node itself promotes per stream (bench:transport, "KB allocated per
 * stream"; docs/benchmarks.md). Less promotion: shorter scavenges, fewer mark-compacts.
 */
const RELEASED: ExtProcStream = new ExtProcStream(
  { name: '', processors: [], mode: fullMode(undefined) },
  createStreamRuntime({}, silentLogger),
);
RELEASED.end('completed');

/**
 * Feeds one ext_proc stream's messages to its `ExtProcStream` strictly in order, one at a time,
 * and acts on each returned step: send the answer, end the stream after the last one. The one
 * loop every transport (and the in-process harness) shares; subclasses say how to send.
 */
export abstract class StreamPump {
  private queue: extProc.ProcessingRequest[] | undefined;
  private busy = false;
  private halfClosed = false;

  constructor(public ext: ExtProcStream) {}

  /** The stream ended: let go of it (see RELEASED); the call's own bookkeeping stays. */
  protected release(): void {
    this.queue = undefined;
    this.ext = RELEASED;
  }

  /**
   * Sends one answer. `last`: Envoy expects nothing more. Returns true when the transport ended
   * the stream with it (then nothing queued is handled).
   */
  protected abstract deliver(res: extProc.ProcessingResponse, last: boolean): boolean;

  /** Envoy half-closed and every message before it was answered: end the stream with OK. */
  protected abstract peerDone(): void;

  /**
   * The last message the declared mode expects needed no answer (observability mode). Returns
   * true when the transport ended the stream with OK (it does so when it closes after the last
   * phase), so Envoy does not hold the stream open until its `deferred_close_timeout`.
   */
  protected abstract lastUnanswered(): boolean;

  /** Messages received but not handled yet (the one in progress excluded). */
  get backlog(): number {
    return this.queue?.length ?? 0;
  }

  receive(req: extProc.ProcessingRequest): void {
    if (this.ext.isEnded) return;
    if (this.busy) {
      (this.queue ??= []).push(req);
      return;
    }
    this.run(req);
  }

  /** Envoy half-closed its side: end once the message in progress (and any queued) is answered. */
  halfClose(): void {
    if (this.busy) this.halfClosed = true;
    else this.peerDone();
  }

  private run(req: extProc.ProcessingRequest): void {
    this.busy = true;
    const s = this.ext.process(req);
    if (s instanceof Promise) void s.then(this.onStep);
    else this.onStep(s);
  }

  private readonly onStep = (s: StreamStep): void => {
    if (this.ext.isEnded) return;
    if (s.response !== undefined) {
      if (this.deliver(s.response, s.last)) return;
    } else if (s.last && this.lastUnanswered()) return;
    const q = this.queue;
    if (q !== undefined && q.length > 0) {
      this.run(q.shift()!);
      return;
    }
    this.busy = false;
    if (this.halfClosed) this.peerDone();
  };
}
