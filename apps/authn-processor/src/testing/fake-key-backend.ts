// Unit-test double for the auth service's key API (not built into dist).
import { type Clock, type Principal, type Scope, scopeFromString } from '@edge/auth-contract';
import { RevokedKeys } from '../key-verification/revoked-keys';
import {
  type KeyEvent,
  type KeyEventListener,
  type KeyEventSubscription,
  KeyVerificationBackend,
  type RevokedKeysSnapshot,
  type VerifyKeyOutcome,
} from '../key-verification/key-verification.backend';

/** Scopes from `resource:action` strings (test input is well-formed). */
export function sc(...list: string[]): Scope[] {
  return list.map((s) => {
    const scope = scopeFromString(s);
    if (scope === undefined) throw new Error(`bad scope ${s}`);
    return scope;
  });
}

export function principal(over: Partial<Principal> = {}): Principal {
  return {
    via: 'api_key',
    tenant: 't1',
    userId: 'u1',
    keyId: 'k1',
    scopes: sc('echo:read'),
    validUntil: null,
    ...over,
  };
}

interface Deferred {
  keyId: string;
  resolve: (o: VerifyKeyOutcome) => void;
  reject: (e: Error) => void;
}

export class FakeKeyBackend extends KeyVerificationBackend {
  calls: { keyId: string; secret: string }[] = [];
  /** Answer for each call; default: ok for secret "good", wrong-secret otherwise. */
  answer: (keyId: string, secret: string) => VerifyKeyOutcome | Error = (keyId, secret) =>
    secret === 'good'
      ? { kind: 'ok', principal: principal({ keyId }), cacheTtlMs: 60_000 }
      : { kind: 'wrong-secret' };
  /** When true, calls stay pending until `release()`. */
  hold = false;
  pending: Deferred[] = [];
  listeners: KeyEventListener[] = [];
  cancelled = 0;

  verifyKey(keyId: string, secret: string): Promise<VerifyKeyOutcome> {
    this.calls.push({ keyId, secret });
    return new Promise((resolve, reject) => {
      const settle = () => {
        const a = this.answer(keyId, secret);
        if (a instanceof Error) reject(a);
        else resolve(a);
      };
      if (this.hold) {
        this.pending.push({ keyId, resolve: () => settle(), reject });
      } else {
        settle();
      }
    });
  }

  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const d of p) d.resolve({ kind: 'unknown-key' });
  }

  /** What ListRevokedKeys answers (an Error: it fails). */
  revokedList: RevokedKeysSnapshot | Error = { keys: [], sequence: 0 };
  listCalls = 0;
  /** `afterSequence` of each watch call. */
  watchedFrom: (number | undefined)[] = [];

  listRevokedKeys(): Promise<RevokedKeysSnapshot> {
    this.listCalls++;
    const r = this.revokedList;
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  }

  watchKeyEvents(listener: KeyEventListener, afterSequence?: number): KeyEventSubscription {
    this.watchedFrom.push(afterSequence);
    this.listeners.push(listener);
    return {
      cancel: () => {
        this.cancelled++;
      },
    };
  }

  /** Sends an event on the newest stream. */
  emit(e: KeyEvent): void {
    this.listeners.at(-1)?.onEvent(e);
  }

  /** Closes the newest stream. */
  drop(err?: Error): void {
    this.listeners.at(-1)?.onClose(err ?? new Error('stream reset'));
  }

  close(): void {}
}

/** A revoked-key set that is loaded (empty), as after a successful first list. */
export function loadedRevokedKeys(clock: Clock, ttlMs = 3_600_000): RevokedKeys {
  const r = new RevokedKeys(clock, { ttlMs });
  r.load([]);
  return r;
}

/** Lets pending promise callbacks run (e.g. the watcher's first list, then its watch). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
