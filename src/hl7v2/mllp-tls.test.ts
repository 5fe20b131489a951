/**
 * Issue #15 (trust, part 6): the MLLP listener speaking MLLP inside TLS, with and without client
 * certificates. Throwaway certificates are made at test time with the openssl command.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../app/testing.js';
import { mllpTlsOptions, parseIntakeConfig, type IntakeConfigFile } from './config.js';
import { createHl7Handler } from './handler.js';
import { adt } from './ingest-fixtures.js';
import { encodeFrame, MllpDecoder, startMllpServer, type MllpServer, type MllpServerEvent } from './mllp.js';
import { ackFields } from './test-support.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

/** In `dir`: a CA, a server certificate for 127.0.0.1 (self-signed), a client certificate from the CA and a stranger's. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Yifang test CA');
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'server.key',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  );
  openssl('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=CITYHOSP');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2');
  openssl('req', '-x509', ...ec, '-keyout', 'stranger.key', '-out', 'stranger.crt', '-days', '2', '-subj', '/CN=stranger');
}

/** A small MLLP-over-TLS client: the ACKs it received, and whether the server hung up. */
class TlsMllpClient {
  readonly replies: Buffer[] = [];
  closed = false;
  private readonly decoder = new MllpDecoder();
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.decoder.push(chunk)) if (ev.type === 'message') this.replies.push(ev.payload);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves after the handshake as the client sees it (with TLS 1.3 the server may still refuse the client's certificate). */
  static connect(port: number, options: tls.ConnectionOptions = {}): Promise<TlsMllpClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ...options }, () => resolve(new TlsMllpClient(s)));
      s.once('error', reject);
    });
  }

  send(message: string): void {
    this.socket.write(encodeFrame(Buffer.from(message, 'utf8')));
  }

  /** The first reply, or undefined when the connection closes without one (rejects after `ms`). */
  firstReply(ms = 10_000): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply and the connection is still open')), ms);
      const check = () => {
        if (this.replies.length || this.closed) {
          clearTimeout(timer);
          resolve(this.replies[0]);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

describe.skipIf(!hasOpenssl)('MLLP over TLS (certificates made with openssl)', () => {
  let dir: string;
  const file = (name: string) => fs.readFileSync(path.join(dir, name));
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mllp-tls-'));
    makeCertificates(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('settings', () => {
    it('reads the certificate and key (relative to the settings folder) and maps requireClientCertificate', () => {
      const c = parseIntakeConfig(
        { mllp: { tls: { certFile: 'server.crt', keyFile: 'server.key', caFile: 'ca.crt', requireClientCertificate: true } } },
        'test settings',
        dir,
      );
      expect(c.mllp.tls).toMatchObject({ certFile: path.join(dir, 'server.crt'), requireClientCertificate: true });
      expect(c.mllp.tls!.cert.equals(file('server.crt'))).toBe(true);
      expect(mllpTlsOptions(c.mllp.tls)).toMatchObject({ requestCert: true, rejectUnauthorized: true });
      expect(parseIntakeConfig({}).mllp.tls).toBeUndefined(); // plain TCP by default
      expect(parseIntakeConfig({ mllp: { tls: null } }).mllp.tls).toBeUndefined();
    });

    it('refuses missing files, a key of another certificate, mutual TLS without a CA, and unknown keys', () => {
      expect(() => parseIntakeConfig({ mllp: { tls: { certFile: 'nope.crt', keyFile: 'server.key' } } }, 'test settings', dir)).toThrow(
        /mllp\.tls\.certFile cannot be read \(.*nope\.crt\)/,
      );
      expect(() => parseIntakeConfig({ mllp: { tls: { certFile: 'server.crt', keyFile: 'client.key' } } }, 'test settings', dir)).toThrow(
        /mllp\.tls .* is not a usable certificate and key/,
      );
      expect(() =>
        parseIntakeConfig({ mllp: { tls: { certFile: 'server.crt', keyFile: 'server.key', requireClientCertificate: true } } }, 'x', dir),
      ).toThrow(/mllp\.tls\.requireClientCertificate is true but caFile is not set/);
      expect(() => parseIntakeConfig({ mllp: { tls: { certFile: 'server.crt', keyFile: 'server.key', cert: 'x' } } }, 'x', dir)).toThrow(
        /mllp\.tls Unrecognized key\(s\) in object: 'cert'/,
      );
      expect(() => parseIntakeConfig({ mllp: { tls: { certFile: 'server.crt' } } }, 'x', dir)).toThrow(/mllp\.tls\.keyFile Required/);
    });
  });

  describe('mutual TLS (requireClientCertificate)', () => {
    let server: MllpServer;
    const events: MllpServerEvent[] = [];
    beforeAll(async () => {
      const c = parseIntakeConfig(
        { mllp: { tls: { certFile: 'server.crt', keyFile: 'server.key', caFile: 'ca.crt', requireClientCertificate: true } } },
        'test settings',
        dir,
      );
      server = await startMllpServer({
        port: 0,
        host: '127.0.0.1',
        tls: mllpTlsOptions(c.mllp.tls),
        handle: createHl7Handler({ store: async () => undefined }),
        onEvent: (e) => events.push(e),
      });
    });
    afterAll(() => server?.close());

    it('serves a client whose certificate the CA signed', async () => {
      const c = await TlsMllpClient.connect(server.port, { ca: file('server.crt'), cert: file('client.crt'), key: file('client.key') });
      try {
        c.send(adt('MTLS-1', { facility: 'CITYHOSP' }));
        const ack = await c.firstReply();
        expect(ackFields(ack!).MSA!.slice(1, 3)).toEqual(['AA', 'MTLS-1']);
      } finally {
        c.close();
      }
    });

    it('refuses a client without a certificate, and one whose certificate the CA did not sign: no ACK, connection closed', async () => {
      for (const options of [{}, { cert: file('stranger.crt'), key: file('stranger.key') }]) {
        const before = events.filter((e) => e.type === 'tls-error').length;
        // With TLS 1.3 the client finishes its side first; the server's refusal arrives after.
        const c = await TlsMllpClient.connect(server.port, { ca: file('server.crt'), ...options }).catch(() => undefined);
        if (c) {
          c.send(adt('MTLS-NO', { facility: 'CITYHOSP' }));
          expect(await c.firstReply()).toBeUndefined();
          expect(c.closed).toBe(true);
          c.close();
        }
        await expect.poll(() => events.filter((e) => e.type === 'tls-error').length).toBe(before + 1);
      }
      expect(events.filter((e) => e.type === 'tls-error').map((e) => e.detail)).toEqual([
        'no client certificate',
        "client certificate 'stranger' refused: DEPTH_ZERO_SELF_SIGNED_CERT",
      ]);
      await expect.poll(() => server.connections).toBe(0); // their shares were given back
    });
  });

  /** A server whose settings file turns TLS on (HL7V2_CONFIG), on one store: the transport is what is tested. */
  describe(`a server with mllp.tls in its settings [${storeKinds()[0]}]`, () => {
    let server: TestServer & { dispose(): Promise<void> };
    let port: number;
    beforeAll(async () => {
      const config: IntakeConfigFile = { mllp: { tls: { certFile: 'server.crt', keyFile: 'server.key' } } };
      fs.writeFileSync(path.join(dir, 'intake.json'), JSON.stringify(config));
      const before = process.env.HL7V2_CONFIG;
      process.env.HL7V2_CONFIG = path.join(dir, 'intake.json');
      try {
        server = await startTestServer(storeKinds()[0]!);
      } finally {
        if (before === undefined) delete process.env.HL7V2_CONFIG;
        else process.env.HL7V2_CONFIG = before;
      }
      port = ((await (await server.api('/api/hl7/status')).json()) as { mllpPort: number }).mllpPort;
    });
    afterAll(() => server?.dispose());

    it('stores a message sent over TLS and answers AA', async () => {
      const c = await TlsMllpClient.connect(port, { ca: file('server.crt') });
      try {
        c.send(adt('TLS-1', { facility: 'TLSHOSP', mrn: 'TLS-MRN-1' }));
        const ack = await c.firstReply();
        expect(ackFields(ack!).MSA!.slice(1, 3)).toEqual(['AA', 'TLS-1']);
        const rows = await server.db.query(`SELECT status FROM hl7_message WHERE control_id = 'TLS-1'`);
        expect(rows.rows).toEqual([{ status: 'stored' }]);
      } finally {
        c.close();
      }
    });

    it('gives a plain-TCP sender no ACK and closes its connection', async () => {
      const s = net.connect({ port, host: '127.0.0.1' });
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      s.on('error', () => undefined);
      s.write(encodeFrame(Buffer.from(adt('PLAIN-1', { facility: 'TLSHOSP' }))));
      await new Promise<void>((done) => s.on('close', () => done()));
      expect(Buffer.concat(got).includes('MSA')).toBe(false);
      const rows = await server.db.query(`SELECT count(*)::int AS n FROM hl7_message WHERE control_id = 'PLAIN-1'`);
      expect(rows.rows[0].n).toBe(0);
    });
  });
});
