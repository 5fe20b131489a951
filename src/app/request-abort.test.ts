/**
 * A user whose browser goes away with requests queued behind their per-user budget is served
 * again afterwards: the queued requests leave the queue instead of being handed slots that no
 * response ever releases (seen on a demo: after a closed browser tab, every request of that user
 * got 429 "at most 1 in progress" while the server was idle).
 */
import { expect, it } from 'vitest';
import { describeEachStore } from './testing.js';

describeEachStore('requests whose client goes away', (server) => {
  it('do not keep the user’s budget: the next request is answered', async () => {
    for (let round = 0; round < 3; round++) {
      const controller = new AbortController();
      const inFlight = Array.from({ length: 12 }, (_, i) =>
        server()
          .api(`/fhir/Patient?name=nobody-${round}-${i}&_count=50`, { signal: controller.signal })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined),
      );
      await new Promise((r) => setTimeout(r, 15));
      controller.abort();
      await Promise.all(inFlight);
    }
    // Give the server a moment to see the closed sockets, then ask again: at once, not after the budget's wait.
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const res = await server().api('/fhir/Patient?_count=1');
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
