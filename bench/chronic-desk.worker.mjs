/**
 * The check-in desk of bench/chronic.bench.ts on a thread of its own, as a desk is a browser on
 * another machine: its requests and the reading of the answers do not wait for the server's event
 * loop (on PGlite in-process, a client on that loop measured the loop's delay on top of the answer).
 * workerData: { url, token, ids, rate ('back-to-back' or per second), seed }. Stops on any message
 * from the parent and posts back the latencies in ms.
 */
import { parentPort, workerData } from 'node:worker_threads';

const { url, token, ids, rate } = workerData;
let running = true;
parentPort.once('message', () => (running = false));
let k = 0;
const latencies = [];
const one = async () => {
  const id = ids[k++ % ids.length];
  const s = performance.now();
  const res = await fetch(`${url}/api/residents/${id}/due-services?asOf=2025-12-01`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`due-services ${id}: ${res.status}`);
  latencies.push(performance.now() - s);
};
if (rate === 'back-to-back') {
  while (running) await one();
} else {
  const inFlight = [];
  const start = performance.now();
  for (let n = 0; running; n++) {
    const wait = start + (n * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (!running) break;
    inFlight.push(one());
  }
  await Promise.all(inFlight);
}
parentPort.postMessage(latencies);
