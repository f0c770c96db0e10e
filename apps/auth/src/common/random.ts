import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';

/** Cryptographic randomness, behind a class so key generation is unit-testable. */
@Injectable()
export class RandomSource {
  bytes(n: number): Buffer {
    return randomBytes(n);
  }

  uuid(): string {
    return randomUUID();
  }
}
