/**
 * Runtime configuration: every environment variable the server and the CLI read, validated
 * once at start (zod). Nothing else in the server reads `process.env` for settings; the
 * composition root (src/app/main.ts) and the CLI pass the values down. The README's
 * configuration table is generated from `VARIABLES` (`configTableMarkdown`), and a test
 * checks that the two agree.
 */
import path from 'node:path';
import { z } from 'zod';

interface Variable {
  name: string;
  /** The default as a reader sees it in the README ('—' when unset). */
  shown: string;
  meaning: string;
  schema: z.ZodTypeAny;
}

const port = (dflt: number) => z.coerce.number().int().min(0).max(65535).default(dflt);
const flag = z
  .string()
  .transform((v, ctx) => {
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected 1/true/yes/on or 0/false/no/off, not '${v}'` });
    return z.NEVER;
  })
  .default('0');

export const VARIABLES = [
  { name: 'PORT', shown: '8080', meaning: 'HTTP port', schema: port(8080) },
  {
    name: 'HOST',
    shown: '127.0.0.1',
    meaning: 'address the HTTP and MLLP listeners bind to; set `0.0.0.0` (or one interface) in production, behind a TLS proxy',
    schema: z.string().min(1).default('127.0.0.1'),
  },
  { name: 'MLLP_PORT', shown: '2575', meaning: 'HL7 v2 MLLP listener', schema: port(2575) },
  {
    name: 'DATABASE_URL',
    shown: '—',
    meaning: 'PostgreSQL connection; without it the embedded PGlite store is used',
    schema: z.string().url().optional(),
  },
  { name: 'YIFANG_DATA_DIR', shown: '`./data`', meaning: 'where PGlite keeps its files', schema: z.string().min(1).default('./data') },
  {
    name: 'YIFANG_PGLITE_THREAD',
    shown: '0',
    meaning:
      "1: PGlite runs on a worker thread of its own, so a long statement never stops the server's event loop; 0: on the main thread, where background work gets the store only between requests (faster recompute and check-ins at a normal desk's pace)",
    schema: flag,
  },
  {
    name: 'YIFANG_ADMIN_PASSWORD',
    shown: '`yifang-admin`',
    meaning: "demo administrator's password",
    schema: z.string().min(8).default('yifang-admin'),
  },
  {
    name: 'YIFANG_BODY_LIMIT_MB',
    shown: '32',
    meaning: 'largest request body (larger → 413; use bulk import)',
    schema: z.coerce.number().positive().default(32),
  },
  {
    name: 'YIFANG_SHARED_DIR',
    shown: '`../shared`',
    meaning: 'the shared folder beside the checkout (public test data, design notes)',
    schema: z.string().min(1).default(path.resolve(process.cwd(), '../shared')),
  },
  {
    name: 'YIFANG_NO_DEMO',
    shown: '0',
    meaning: '1: start on PGlite without loading the demo district',
    schema: flag,
  },
  {
    name: 'YIFANG_DEMO_POPULATION',
    shown: '20000',
    meaning: 'residents of the demo district loaded on first start',
    schema: z.coerce.number().int().min(0).default(20000),
  },
  {
    name: 'YIFANG_DEMO_DAYS',
    shown: '730',
    meaning: 'days of records in the demo district',
    schema: z.coerce.number().int().min(1).default(730),
  },
  {
    name: 'YIFANG_DEMO_HL7_DAYS',
    shown: '3',
    meaning: 'last days of the demo sent as hospital HL7 v2 messages (the rest as FHIR)',
    schema: z.coerce.number().int().min(0).default(3),
  },
  {
    name: 'HL7V2_CONFIG',
    shown: '`config/hl7v2/intake.json`',
    meaning: 'HL7 v2 intake settings: charsets per facility, MLLP caps, reserve, idle timeout, allow-lists (read by the hl7v2 module)',
    schema: z.string().min(1).optional(),
  },
  {
    name: 'YIFANG_AUDIT_KEY',
    shown: '—',
    meaning:
      "the audit chain's HMAC key, base64 (≥ 32 bytes); keep it outside the database. Unset: a key file under the data directory is made on first start",
    schema: z.string().min(44).optional(),
  },
  { name: 'YIFANG_AUDIT_KEY_FILE', shown: '—', meaning: 'or a file holding that key', schema: z.string().min(1).optional() },
  {
    name: 'YIFANG_EXPORT_KEY',
    shown: '—',
    meaning:
      "the de-identified exports' pseudonym key, base64 (≥ 32 bytes); keep it outside the database and keep it (a new key gives every resident new pseudonyms). Unset: a key file under the data directory is made on first start",
    schema: z.string().min(44).optional(),
  },
  { name: 'YIFANG_EXPORT_KEY_FILE', shown: '—', meaning: 'or a file holding that key', schema: z.string().min(1).optional() },
  {
    name: 'YIFANG_AUDIT_SIGNING_KEY_FILE',
    shown: '`audit-signing.pem` beside the key file',
    meaning: 'Ed25519 private key (PKCS#8 PEM) that signs audit checkpoints',
    schema: z.string().min(1).optional(),
  },
  {
    name: 'YIFANG_AUDIT_READ_WAL',
    shown: '1 on PGlite, 0 on PostgreSQL',
    meaning:
      "reads' AuditEvents go to a write-ahead file in the data directory (written before the answer, and fdatasynced on PostgreSQL; PGlite runs with fsync off, so there the write alone keeps what its own commits keep) and reach the database in batches; replayed on start. On PostgreSQL one server per data directory",
    schema: flag.removeDefault().optional(),
  },
  {
    name: 'YIFANG_TRUSTED_PROXIES',
    shown: '—',
    meaning:
      'comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed; unset: the socket address is recorded',
    schema: z.string().min(1).optional(),
  },
  {
    name: 'ACCESS_POLICY',
    shown: '`config/security/policy.json`',
    meaning:
      'the access policy: rules by role, organisation, area, care relationship and purpose of use, and the table of /api routes (refuses to start when a line is wrong)',
    schema: z.string().min(1).optional(),
  },
  {
    name: 'WEBHOOKS_CONFIG',
    shown: '`config/security/webhooks.json`',
    meaning:
      'hosts and CIDRs alert webhooks may reach beyond public addresses (loopback, link-local and private ranges are refused otherwise)',
    schema: z.string().min(1).optional(),
  },
  {
    name: 'YIFANG_MQTT_URL',
    shown: '—',
    meaning:
      'MQTT broker the cold-chain sensors publish to (e.g. `mqtt://127.0.0.1:1883`); unset: no subscriber (readings by POST /api/cold-chain/readings only)',
    schema: z.string().url().optional(),
  },
  {
    name: 'YIFANG_SMS_GATEWAY_URL',
    shown: '—',
    meaning:
      "SMS gateway the outboxes post to (JSON `{to, text, reference}`): the resident portal's sign-in codes and reminders, and investigation escalation notices to teams; unset: messages are written to the server log (demo)",
    schema: z.string().url().optional(),
  },
] as const satisfies readonly Variable[];

type Shape = { [V in (typeof VARIABLES)[number] as V['name']]: V['schema'] };
const schema = z.object(Object.fromEntries(VARIABLES.map((v) => [v.name, v.schema])) as Shape);

export type Config = z.infer<typeof schema>;

/** Reads and validates the environment; an empty value counts as unset. Throws naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${msg}`);
  }
  return parsed.data;
}

/** The README's configuration table. */
export function configTableMarkdown(): string {
  const rows = VARIABLES.map((v) => `| \`${v.name}\` | ${v.shown} | ${v.meaning} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
