import { type Request } from 'express';
import { Strategy } from 'passport-strategy';

type Done = (err: unknown, user?: unknown, info?: unknown) => void;

/**
 * A minimal passport strategy that hands the whole request to its verify callback (the Nest
 * `validate` method). `validate` returns a principal, returns false when the request carries
 * no credential of its scheme (so passport tries the next strategy), or throws an
 * HttpException that names what was wrong.
 */
export class RequestStrategy extends Strategy {
  constructor(private readonly verify: (req: Request, done: Done) => void) {
    super();
  }

  override authenticate(req: Request): void {
    this.verify(req, (err, user) => {
      if (err) {
        this.error(err instanceof Error ? err : new Error('authentication failed'));
      } else if (!user) {
        this.fail(401);
      } else {
        this.success(user);
      }
    });
  }
}
