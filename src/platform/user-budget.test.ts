/**
 * The per-user budget: a slot per request, a queue beyond the limit, and no slot lost when a
 * client goes away, whether it held a slot or was still waiting for one.
 */
import { describe, expect, it } from 'vitest';
import { UserBudget } from './user-budget.js';

describe('UserBudget', () => {
  it('queues a request beyond the limit and hands it the slot when the first is answered', async () => {
    const b = new UserBudget({ concurrent: 1, waitMs: 1000 });
    const first = {};
    const second = {};
    await b.acquire(first, 'u');
    let got = false;
    const waiting = b.acquire(second, 'u').then(() => (got = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toBe(false);
    b.release(first);
    await waiting;
    expect(b.active('u')).toBe(1);
    b.release(second);
    expect(b.active('u')).toBe(0);
  });

  it('refuses with 429 after the wait', async () => {
    const b = new UserBudget({ concurrent: 1, waitMs: 20 });
    await b.acquire({}, 'u');
    await expect(b.acquire({}, 'u')).rejects.toMatchObject({ status: 429 });
  });

  it('a request whose client went away while queued leaves the queue: its slot is not lost', async () => {
    const b = new UserBudget({ concurrent: 1, waitMs: 5000 });
    const holder = {};
    const gone = {};
    await b.acquire(holder, 'u');
    const waiting = b.acquire(gone, 'u');
    // The client of the queued request goes away (onRequestAbort releases it), then the holder is answered.
    b.release(gone);
    await expect(waiting).rejects.toMatchObject({ status: 503 });
    b.release(holder);
    expect(b.active('u')).toBe(0);
    // The user is served at once afterwards.
    const next = {};
    await b.acquire(next, 'u');
    expect(b.active('u')).toBe(1);
  });
});
