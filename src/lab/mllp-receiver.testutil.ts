/**
 * A receiving system for tests and the bench: an MLLP listener on an ephemeral port that
 * acknowledges (AA), drops the connection after taking a message the first time, answers AE or
 * AR, or never answers; it dedupes by MSH-10 as a careful receiver does and records what it saw.
 */
import net from 'node:net';
import { buildAck, encodeAck, encodeFrame, MllpDecoder, parseHl7 } from '../hl7v2/index.js';

export type Behaviour = 'ack' | 'drop-first' | 'ae' | 'ar' | 'silent';

/** A receiving system: answers per its behaviour, dedupes by MSH-10, records what it saw. */
export async function startReceiver(behaviour: Behaviour) {
  const received: { controlId: string; text: string; at: number }[] = [];
  const processed = new Map<string, number>();
  const dropped = new Set<string>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const dec = new MllpDecoder();
    sock.on('data', (chunk) => {
      for (const ev of dec.push(chunk)) {
        if (ev.type !== 'message') continue;
        const m = parseHl7(ev.payload);
        const id = m.controlId;
        received.push({ controlId: id, text: ev.payload.toString('utf8'), at: Date.now() });
        if (behaviour === 'silent') continue;
        if (behaviour === 'drop-first' && !dropped.has(id)) {
          // Takes the message, then drops the line before answering.
          dropped.add(id);
          processed.set(id, (processed.get(id) ?? 0) + 1);
          sock.destroy();
          return;
        }
        if (behaviour === 'ae' || behaviour === 'ar') {
          const ack = buildAck({
            message: m,
            ackCode: behaviour === 'ae' ? 'AE' : 'AR',
            error: { code: 204, message: '患者ID未知 unknown patient' },
          });
          sock.write(encodeFrame(encodeAck(ack)));
          continue;
        }
        // A duplicate (same MSH-10) is acknowledged again but not processed twice.
        if (!processed.has(id)) processed.set(id, 1);
        sock.write(encodeFrame(encodeAck(buildAck({ message: m }))));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    received,
    processed,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
