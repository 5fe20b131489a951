/**
 * A per-user concurrency budget: one user (or one script with one token) may not take every
 * database connection. A request beyond the budget waits for a slot up to `waitMs`, then is
 * answered 429 with Retry-After. Slots are tied to the request object, released once when the
 * response is sent or the client goes away; a request whose client goes away while it waits leaves
 * the queue.
 */
import { HttpError } from './errors.js';

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class UserBudget {
  private readonly inUse = new Map<string, number>();
  private readonly queues = new Map<string, Waiter[]>();
  private readonly held = new WeakMap<object, string>();
  /** Requests waiting for a slot, so one whose client goes away leaves the queue instead of taking a slot nobody releases. */
  private readonly waiting = new WeakMap<object, { user: string; waiter: Waiter }>();

  constructor(private readonly limits: { concurrent: number; waitMs: number; refusal?: 'user' | 'busy' }) {}

  /** Takes a slot for the request (once per request; later calls for the same request are free). */
  async acquire(req: object, user: string): Promise<void> {
    if (this.held.has(req)) return;
    const n = this.inUse.get(user) ?? 0;
    if (n < this.limits.concurrent) {
      this.inUse.set(user, n + 1);
      this.held.set(req, user);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const queue = this.queues.get(user) ?? [];
      this.queues.set(user, queue);
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1);
          this.waiting.delete(req);
          const e =
            this.limits.refusal === 'busy'
              ? new HttpError(
                  503,
                  `The server is busy (${this.limits.concurrent} heavy requests in progress); try again shortly`,
                  'transient',
                )
              : new HttpError(
                  429,
                  `Too many requests at once for user '${user}' (at most ${this.limits.concurrent} in progress); try again shortly`,
                  'throttled',
                );
          e.headers = { 'Retry-After': '2' };
          reject(e);
        }, this.limits.waitMs),
      };
      queue.push(waiter);
      this.waiting.set(req, { user, waiter });
    });
    // The slot was handed over by release(): the count stays as it was.
    this.waiting.delete(req);
    this.held.set(req, user);
  }

  /**
   * The request is done (answered, or its client went away): its slot goes to the next in the
   * user's queue. A request still queued leaves the queue and its acquire rejects: otherwise the
   * slot handed to it later would stay held, since a request whose client is gone may never be
   * answered (no response hook runs), and the user would be refused from then on.
   */
  release(req: object): void {
    const queued = this.waiting.get(req);
    if (queued) {
      this.waiting.delete(req);
      const queue = this.queues.get(queued.user) ?? [];
      const i = queue.indexOf(queued.waiter);
      if (i >= 0) queue.splice(i, 1);
      clearTimeout(queued.waiter.timer);
      queued.waiter.reject(new HttpError(503, 'The client went away; the request was cancelled.', 'transient'));
      return;
    }
    const user = this.held.get(req);
    if (user === undefined) return;
    this.held.delete(req);
    const next = this.queues.get(user)?.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
      return;
    }
    const n = (this.inUse.get(user) ?? 1) - 1;
    if (n <= 0) this.inUse.delete(user);
    else this.inUse.set(user, n);
  }

  /** Requests in progress for a user (tests, status). */
  active(user: string): number {
    return this.inUse.get(user) ?? 0;
  }
}
