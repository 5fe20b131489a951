/**
 * The hostile FHIR inputs of issue #14 as a list (88 cases: search bounds, JSON depth and size,
 * NUL and unpaired surrogates on every channel, bad Bundles, bad imports, …), how to send each
 * one, and the check of each answer: 400/413 (or 404/431 where the HTTP layer or routing answers
 * first) with a message naming the field or the limit, never 500, within a few seconds; nothing
 * stored (or, for the accepted controls, exactly what was sent). Used by the test
 * (hostile-inputs.test.ts, both stores) and the resilience bench (bench/resilience.bench.ts).
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FHIR_LIMITS } from './limits.js';

export type Channel =
  'create' | 'update' | 'conditional' | 'transaction' | 'batch' | 'ndjson' | 'bundle-import' | 'search' | 'search-post' | 'raw';

export interface Case {
  name: string;
  channel: Channel;
  /** Resource (create/update/conditional), Bundle (transaction/batch/bundle-import), NDJSON or raw text, or a query string. */
  body?: unknown;
  text?: string;
  query?: string;
  /** Statuses accepted as the answer. */
  status: number[];
  /** What the message must mention (field or limit). */
  mentions?: RegExp;
  /** A family name that must not be stored by this case. */
  marker?: string;
}

const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const deepExtension = (n: number): string =>
  '{"url":"http://x","extension":['.repeat(n) + '{"url":"http://x","valueString":"a"}' + ']}'.repeat(n);
const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`).join(',');
const repeated = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}=v${i}`).join('&');

const patient = (family: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  name: [{ family }],
  ...extra,
});
const observation = (extra: Record<string, unknown>) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'x' },
  ...extra,
});
const transaction = (resources: Resource[] | unknown[], type: 'transaction' | 'batch' = 'transaction'): Bundle =>
  ({
    resourceType: 'Bundle',
    type,
    entry: resources.map((r, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resource: r,
      request: { method: 'POST', url: (r as Resource).resourceType ?? 'Patient' },
    })),
  }) as Bundle;

const NUL = '\u0000';
const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];
const R400 = [400];
const R413 = [413];
const SIZE = [400, 413];

/** The hostile inputs, in the order they are sent. */
export const cases: Case[] = [];
const add = (c: Case) => cases.push(c);

// --- search bounds ----------------------------------------------------------------------------
for (const n of [101, 1000, 10_000])
  add({
    name: `OR list of ${n} names`,
    channel: n > 1000 ? 'search-post' : 'search',
    query: `name=${values(n)}`,
    status: SIZE,
    mentions: /limit/,
  });
add({ name: 'OR list of 101 _id', channel: 'search', query: `_id=${values(101)}`, status: R413, mentions: /'_id'.*limit is 100/ });
add({
  name: 'OR list of 101 birthdates',
  channel: 'search',
  query: `birthdate=${Array(101).fill('2020').join(',')}`,
  status: R413,
  mentions: /birthdate/,
});
add({ name: 'OR list of 101 tokens', channel: 'search', query: `identifier=${values(101)}`, status: R413, mentions: /identifier/ });
add({
  name: 'OR list of 101 _lastUpdated',
  channel: 'search',
  query: `_lastUpdated=${Array(101).fill('2020').join(',')}`,
  status: R413,
  mentions: /_lastUpdated/,
});
add({
  name: 'OR list in a chain',
  channel: 'search',
  query: `general-practitioner:Practitioner.name=${values(101)}`,
  status: R413,
  mentions: /limit/,
});
add({ name: '10,000 repeated name (form body)', channel: 'search-post', query: repeated('name', 10_000), status: SIZE, mentions: /limit/ });
add({
  name: '10,000 repeated name (URL)',
  channel: 'search',
  query: repeated('name', 10_000),
  status: [413, 414, 431],
  mentions: /limit|/,
});
add({ name: '51 parameters', channel: 'search', query: repeated('name', 51), status: R413, mentions: /51 parameters; the limit is 50/ });
add({ name: '51 _id parameters', channel: 'search', query: repeated('_id', 51), status: R413, mentions: /limit is 50/ });
add({
  name: '11 _include',
  channel: 'search',
  query: Array(11).fill('_include=Patient:general-practitioner').join('&'),
  status: R413,
  mentions: /_include\/_revinclude.*limit is 10/,
});
add({
  name: '11 _revinclude',
  channel: 'search',
  query: Array(11).fill('_revinclude=Observation:subject').join('&'),
  status: R413,
  mentions: /limit is 10/,
});
add({ name: '_count=1001', channel: 'search', query: '_count=1001', status: R413, mentions: /limit of 1000/ });
add({ name: '_count=1e9', channel: 'search', query: '_count=1000000000', status: R413, mentions: /limit of 1000/ });
add({ name: '_count=-1', channel: 'search', query: '_count=-1', status: R400, mentions: /_count/ });
add({
  name: 'chain of three levels',
  channel: 'search',
  query: 'general-practitioner:Organization.partof.partof.name=x',
  status: R413,
  mentions: /limit of 2 levels/,
});
add({
  name: 'query string over the length limit (form)',
  channel: 'search-post',
  query: `name=${'a'.repeat(FHIR_LIMITS.queryLength + 10)}`,
  status: R413,
  mentions: /characters long; the limit is/,
});
add({
  name: '_sort with 101 keys',
  channel: 'search',
  query: `_sort=${Array(101).fill('birthdate').join(',')}`,
  status: R413,
  mentions: /_sort/,
});
add({ name: '_include:iterate loop', channel: 'search', query: '_include:iterate=Patient:link&_include=Patient:link', status: [200] });
add({ name: '_revinclude:iterate loop', channel: 'search', query: '_revinclude:iterate=Patient:link&_count=5', status: [200] });
add({ name: '_include:iterate unknown type', channel: 'search', query: '_include:iterate=Nope:link', status: R400, mentions: /Nope/ });
// NUL and lone surrogates in search values and names
add({ name: 'NUL in name value', channel: 'search', query: 'name=a%00b', status: R400, mentions: /'name'.*NUL/ });
add({ name: 'NUL in token value', channel: 'search', query: 'identifier=x%00', status: R400, mentions: /'identifier'.*NUL/ });
add({ name: 'NUL in parameter name', channel: 'search', query: 'na%00me=x', status: R400, mentions: /NUL/ });
add({ name: 'NUL in _id', channel: 'search', query: '_id=%00', status: R400, mentions: /'_id'/ });
add({ name: 'NUL in POST _search body', channel: 'search-post', query: 'family=%00', status: R400, mentions: /'family'/ });
add({
  name: 'lone surrogate in name value (POST form)',
  channel: 'search-post',
  query: `name=${encodeURIComponent('a') + '%ED%A0%80'}`,
  status: [200, 400],
});
add({ name: 'NUL in date value', channel: 'search', query: 'birthdate=2020%00', status: R400, mentions: /'birthdate'/ });

// --- JSON nesting ------------------------------------------------------------------------------
add({
  name: 'create: array nested 10,000 deep',
  channel: 'raw',
  text: `{"resourceType":"Patient","name":${deepArray(10_000)}}`,
  status: R400,
  mentions: /limit of 100 levels/,
});
add({
  name: 'create: object nested 10,000 deep',
  channel: 'raw',
  text: `{"resourceType":"Patient","x":${deepObject(10_000)}}`,
  status: R400,
  mentions: /limit of 100 levels/,
});
add({
  name: 'create: extension nested 10,000 deep',
  channel: 'raw',
  text: `{"resourceType":"Patient","extension":[${deepExtension(10_000)}]}`,
  status: R400,
  mentions: /limit of 100 levels/,
});
add({
  name: 'create: extension nested 120 deep',
  channel: 'raw',
  text: `{"resourceType":"Patient","extension":[${deepExtension(60)}]}`,
  status: R400,
  mentions: /limit of 100 levels/,
});
add({ name: 'create: bare array 10,000 deep', channel: 'raw', text: deepArray(10_000), status: R400, mentions: /limit of 100 levels/ });
add({
  name: 'transaction: entry nested 10,000 deep',
  channel: 'raw',
  query: 'transaction',
  text: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":${deepObject(10_000)}}]}`,
  status: R400,
  mentions: /limit of 100 levels/,
});
add({
  name: 'NDJSON: line nested 10,000 deep',
  channel: 'ndjson',
  text: `{"resourceType":"Patient","id":"deep1","name":${deepArray(10_000)}}`,
  status: [200],
  mentions: /limit of 100 levels/,
});
add({
  name: 'NDJSON: extension nested 10,000 deep',
  channel: 'ndjson',
  text: `{"resourceType":"Patient","id":"deep2","extension":[${deepExtension(10_000)}]}`,
  status: [200],
  mentions: /limit of 100 levels/,
});
add({
  name: 'Bundle import: nested 10,000 deep',
  channel: 'raw',
  query: 'import',
  text: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":${deepObject(10_000)}}]}`,
  status: R400,
  mentions: /limit of 100 levels/,
});
add({
  name: 'strings full of brackets are not nesting',
  channel: 'create',
  body: patient('ok-brackets', { name: [{ family: 'ok-brackets', given: ['['.repeat(500) + '{'.repeat(500)] }] }),
  status: [201],
});

// --- NUL and lone surrogates in stored resources, on every channel -----------------------------
for (const bad of [NUL, ...LONE]) {
  const label = bad === NUL ? 'NUL' : `\\u${bad.charCodeAt(0).toString(16)}`;
  const m = bad === NUL ? /Patient\.name\[0\]\.family: contains a NUL/ : /Patient\.name\[0\]\.family: contains an unpaired surrogate/;
  add({ name: `create: ${label} in family`, channel: 'create', body: patient(`bad${bad}`), status: R400, mentions: m });
  add({
    name: `ndjson: ${label} in family`,
    channel: 'ndjson',
    text: JSON.stringify({ ...patient(`bad${bad}`), id: `nd-${label.replace(/\\/g, '')}` }),
    status: [200],
    mentions: m,
  });
}
add({
  name: 'update: NUL in given',
  channel: 'update',
  body: patient('upd', { name: [{ family: 'x', given: [`a${NUL}`] }] }),
  status: R400,
  mentions: /given\[0\]: contains a NUL/,
});
add({
  name: 'conditional update: surrogate in family',
  channel: 'conditional',
  body: patient('\ud800x'),
  status: R400,
  mentions: /unpaired surrogate/,
});
add({
  name: 'transaction: surrogate in family',
  channel: 'transaction',
  body: transaction([patient('tx\udc00')]),
  status: R400,
  mentions: /Patient\.name\[0\]\.family: contains an unpaired surrogate/,
});
add({ name: 'batch: NUL in family', channel: 'batch', body: transaction([patient(`bx${NUL}`)], 'batch'), status: [200], mentions: /NUL/ });
add({
  name: 'bundle import: NUL in family',
  channel: 'bundle-import',
  body: transaction([patient(`bi${NUL}`)]),
  status: SIZE,
  mentions: /NUL/,
});
add({
  name: 'create: NUL in property name',
  channel: 'create',
  body: { resourceType: 'Patient', [`fa${NUL}mily`]: 'x' },
  status: R400,
  mentions: /property name.*NUL/,
});
add({
  name: 'create: surrogate in property name',
  channel: 'create',
  body: { resourceType: 'Patient', ['\ud800']: 'x' },
  status: R400,
  mentions: /property name.*unpaired surrogate/,
});
add({
  name: 'create: NUL in extension url',
  channel: 'create',
  body: patient('ext', { extension: [{ url: `http://x${NUL}`, valueString: 'a' }] }),
  status: R400,
  mentions: /extension\[0\]\.url: contains a NUL/,
});
add({
  name: 'create: NUL in narrative div',
  channel: 'create',
  body: patient('div', { text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">a${NUL}</div>` } }),
  status: R400,
  mentions: /text\.div: contains a NUL/,
});
add({
  name: 'create: surrogate in contained resource',
  channel: 'create',
  body: patient('cont', { contained: [{ resourceType: 'Organization', id: 'o', name: '\udbffx' }] }),
  status: R400,
  mentions: /contained\[0\]\.name: contains an unpaired surrogate/,
});
add({ name: 'create: invalid UTF-8 bytes', channel: 'raw', text: '\u00ff-not-utf8', status: R400, mentions: /not valid UTF-8/ });
add({ name: 'create: a valid surrogate pair is kept', channel: 'create', body: patient('𠀀pair😀'), status: [201] });

// --- required bindings -----------------------------------------------------------------------
add({
  name: 'gender outside its value set',
  channel: 'create',
  body: patient('g', { gender: 'not-a-gender' }),
  status: R400,
  mentions: /Patient\.gender: 'not-a-gender' is not in the required value set/,
});
add({
  name: 'Observation.status bogus',
  channel: 'create',
  body: observation({ status: 'bogus' }),
  status: R400,
  mentions: /Observation\.status: 'bogus'/,
});
add({
  name: 'telecom system pigeon',
  channel: 'create',
  body: patient('t', { telecom: [{ system: 'pigeon', value: '1' }] }),
  status: R400,
  mentions: /telecom\[0\]\.system/,
});
add({
  name: 'name use bogus',
  channel: 'create',
  body: patient('n', { name: [{ family: 'n', use: 'nickname-ish' }] }),
  status: R400,
  mentions: /name\[0\]\.use/,
});
add({
  name: 'identifier use bogus',
  channel: 'create',
  body: patient('i', { identifier: [{ use: 'main', value: '1' }] }),
  status: R400,
  mentions: /identifier\[0\]\.use/,
});
add({
  name: 'Quantity comparator bogus',
  channel: 'create',
  body: observation({ valueQuantity: { value: 1, comparator: '~' } }),
  status: R400,
  mentions: /comparator/,
});
add({
  name: 'Condition clinicalStatus bad code',
  channel: 'create',
  body: {
    resourceType: 'Condition',
    subject: { reference: 'Patient/p-exists' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'zzz' }] },
  },
  status: R400,
  mentions: /clinicalStatus/,
});
add({
  name: 'Encounter status in a transaction',
  channel: 'transaction',
  body: transaction([{ resourceType: 'Encounter', status: 'walking', class: { code: 'AMB' } }]),
  status: R400,
  mentions: /Encounter\.status/,
});
add({
  name: 'bad code in NDJSON',
  channel: 'ndjson',
  text: JSON.stringify({ resourceType: 'Patient', id: 'nd-gender', gender: 'x' }),
  status: [200],
  mentions: /Patient\.gender/,
});

// --- references: target type and existence ---------------------------------------------------
add({
  name: 'Observation.subject -> Observation',
  channel: 'create',
  body: observation({ subject: { reference: 'Observation/x' } }),
  status: R400,
  mentions: /Observation\.subject: reference to Observation\/x is not allowed/,
});
add({
  name: 'Patient.generalPractitioner -> Patient',
  channel: 'create',
  body: patient('gp', { generalPractitioner: [{ reference: 'Patient/p-exists' }] }),
  status: R400,
  mentions: /generalPractitioner\[0\]/,
});
add({
  name: 'absolute reference of the wrong type',
  channel: 'create',
  body: observation({ subject: { reference: 'http://other/fhir/Medication/1' } }),
  status: R400,
  mentions: /Observation\.subject/,
});
add({
  name: 'wrong type in a transaction',
  channel: 'transaction',
  body: transaction([observation({ subject: { reference: 'Practitioner/1' } })]),
  status: R400,
  mentions: /Observation\.subject/,
});
add({
  name: 'missing subject on create',
  channel: 'create',
  body: observation({ subject: { reference: 'Patient/nope' } }),
  status: R400,
  mentions: /Observation\.subject: Patient\/nope does not exist/,
});
add({
  name: 'missing subject on update',
  channel: 'update',
  body: observation({ subject: { reference: 'Patient/nope' } }),
  status: R400,
  mentions: /Patient\/nope does not exist/,
});
add({
  name: 'missing reference in a transaction',
  channel: 'transaction',
  body: transaction([observation({ subject: { reference: 'Patient/nope' } })]),
  status: R400,
  mentions: /Observation\.subject: Patient\/nope does not exist/,
});
add({
  name: 'one good, one missing in a transaction',
  channel: 'transaction',
  body: transaction([
    patient('txok'),
    observation({ subject: { reference: 'Patient/nope2' }, performer: [{ reference: 'Patient/nope3' }] }),
  ]),
  status: R400,
  mentions: /Patient\/nope2 does not exist.*Patient\/nope3 does not exist/,
  marker: 'txok',
});
add({
  name: 'missing reference in a batch entry',
  channel: 'batch',
  body: transaction([observation({ subject: { reference: 'Patient/nope' } })], 'batch'),
  status: [200],
  mentions: /does not exist/,
});
add({
  name: 'reference into the same transaction resolves',
  channel: 'transaction',
  body: {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:a0000000-0000-4000-8000-000000000001', resource: patient('txref'), request: { method: 'POST', url: 'Patient' } },
      {
        resource: observation({ subject: { reference: 'urn:uuid:a0000000-0000-4000-8000-000000000001' } }),
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  },
  status: [200],
});
add({
  name: 'existing reference is accepted',
  channel: 'create',
  body: observation({ subject: { reference: 'Patient/p-exists' } }),
  status: [201],
});
add({
  name: 'contained reference is local',
  channel: 'create',
  body: observation({ contained: [{ resourceType: 'Patient', id: 'c1', name: [{ family: 'c' }] }], subject: { reference: '#c1' } }),
  status: [201],
});

// --- malformed Bundles ------------------------------------------------------------------------
add({
  name: 'transaction with entry an object',
  channel: 'transaction',
  body: { resourceType: 'Bundle', type: 'transaction', entry: { a: 1 } },
  status: R400,
  mentions: /Bundle\.entry must be an array/,
});
add({
  name: 'transaction with a null entry',
  channel: 'transaction',
  body: { resourceType: 'Bundle', type: 'transaction', entry: [null] },
  status: R400,
  mentions: /entry\[0\]/,
});
add({
  name: 'transaction with url a number',
  channel: 'transaction',
  body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient('u'), request: { method: 'POST', url: 5 } }] },
  status: R400,
  mentions: /must be strings/,
});
add({
  name: 'transaction with resource a string',
  channel: 'transaction',
  body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: 'x', request: { method: 'POST', url: 'Patient' } }] },
  status: R400,
  mentions: /resource must be a JSON object/,
});
add({
  name: 'bundle import with a null entry',
  channel: 'bundle-import',
  body: { resourceType: 'Bundle', type: 'transaction', entry: [null] },
  status: R400,
  mentions: /entry must be an object/,
});

async function send(s: HostileTarget, c: Case): Promise<{ status: number; text: string }> {
  let res: Response;
  switch (c.channel) {
    case 'create':
      res = await s.api(`/fhir/${(c.body as Resource).resourceType}`, { method: 'POST', body: JSON.stringify(c.body) });
      break;
    case 'update': {
      const type = (c.body as Resource).resourceType;
      res = await s.api(`/fhir/${type}/hostile-upd`, { method: 'PUT', body: JSON.stringify({ ...(c.body as object), id: 'hostile-upd' }) });
      break;
    }
    case 'conditional':
      res = await s.api(`/fhir/Patient?identifier=http://x|hostile-cond`, { method: 'PUT', body: JSON.stringify(c.body) });
      break;
    case 'transaction':
    case 'batch':
      res = await s.api('/fhir', { method: 'POST', body: JSON.stringify(c.body) });
      break;
    case 'bundle-import':
      res = await s.api('/api/import', { method: 'POST', body: JSON.stringify(c.body) });
      break;
    case 'ndjson':
      res = await s.api('/api/import', { method: 'POST', body: c.text! + '\n', headers: { 'content-type': 'application/fhir+ndjson' } });
      break;
    case 'search':
      res = await s.api(`/fhir/Patient?${c.query}`);
      break;
    case 'search-post':
      res = await s.api('/fhir/Patient/_search', {
        method: 'POST',
        body: c.query,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      break;
    case 'raw': {
      const url = c.query === 'transaction' ? '/fhir' : c.query === 'import' ? '/api/import' : '/fhir/Patient';
      const body = c.name.includes('UTF-8') ? Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) : c.text;
      res = await s.api(url, { method: 'POST', body });
      break;
    }
  }
  return { status: res.status, text: await res.text() };
}

/** Where the cases are sent: a running server, with the administrator's token on every call. */
export interface HostileTarget {
  api(pathAndQuery: string, init?: RequestInit): Promise<Response>;
}

export interface HostileTally {
  cases: number;
  /** Answers of 500 or more. */
  serverErrors: number;
  /** Answers slower than 5 s. */
  timeouts: number;
  /** Refused input stored anyway, or accepted input stored other than sent (e.g. U+FFFD for bad text). */
  replaced: number;
}

/** Sends every case to the server and checks each answer; returns the tally and what went wrong. */
export async function runHostileCases(s: HostileTarget): Promise<{ tally: HostileTally; failures: string[] }> {
  // A patient the references in the cases may point at.
  const seed = await s.api('/fhir/Patient/p-exists', { method: 'PUT', body: JSON.stringify(patient('exists')) });
  await seed.body?.cancel();
  if (seed.status >= 300) throw new Error(`could not store the seed Patient: ${seed.status}`);
  const failures: string[] = [];
  const tally: HostileTally = { cases: 0, serverErrors: 0, timeouts: 0, replaced: 0 };
  for (const c of cases) {
    tally.cases++;
    const started = Date.now();
    const { status, text } = await send(s, c);
    const ms = Date.now() - started;
    if (status >= 500) tally.serverErrors++;
    if (ms > 5000) tally.timeouts++;
    if (!c.status.includes(status)) failures.push(`${c.name}: ${status} ${text.slice(0, 300)}`);
    else if (c.mentions && !c.mentions.test(text)) failures.push(`${c.name}: message does not name it: ${text.slice(0, 300)}`);
    // An import answers 200 with per-line errors: the bad line must be among them, nothing written.
    if ((c.channel === 'ndjson' || (c.channel === 'raw' && c.query === 'import')) && status === 200) {
      const stats = JSON.parse(text) as { resources: number; errors: unknown[] };
      if (stats.resources !== 0 || stats.errors.length !== 1)
        failures.push(`${c.name}: import stored ${stats.resources}, ${stats.errors.length} errors`);
    }
    if (c.channel === 'batch' && status === 200) {
      const out = JSON.parse(text) as Bundle;
      if (!out.entry?.every((e) => e.response?.status?.startsWith('4')))
        failures.push(`${c.name}: batch entry not refused: ${text.slice(0, 300)}`);
    }
    // Nothing stored for a refused resource; what is stored for an accepted one is what was sent.
    const body = c.body as (Resource & { name?: { family?: string }[] }) | Bundle | undefined;
    const families: string[] = [];
    if (c.marker) families.push(c.marker);
    if (body && 'entry' in body && Array.isArray(body.entry)) {
      for (const e of body.entry as { resource?: unknown }[])
        if (e && typeof e === 'object' && (e.resource as Resource)?.resourceType === 'Patient')
          families.push(...((e.resource as { name?: { family?: string }[] }).name ?? []).map((n) => n.family ?? ''));
    } else if (body?.resourceType === 'Patient')
      families.push(...((body as { name?: { family?: string }[] }).name ?? []).map((n) => n.family ?? ''));
    for (const family of families.filter((f) => f && !/[\u0000\ud800-\udfff]/.test(f.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')))) {
      const found = (await (await s.api(`/fhir/Patient?family:exact=${encodeURIComponent(family)}`)).json()) as Bundle;
      const stored = (found.entry ?? []).map((e) => e.resource as Resource & { name?: { family?: string }[] });
      const accepted = status < 300 && c.channel !== 'batch' && c.status.every((x) => x < 300);
      if (!accepted && stored.length) {
        tally.replaced++;
        failures.push(`${c.name}: refused but stored ${family}`);
      }
      if (accepted && stored.length !== 1) failures.push(`${c.name}: accepted but ${stored.length} stored`);
      if (accepted && stored[0] && JSON.stringify(stored[0].name) !== JSON.stringify((body as { name?: unknown }).name ?? stored[0].name)) {
        tally.replaced++;
        failures.push(`${c.name}: stored ${JSON.stringify(stored[0].name)}`);
      }
    }
    // No refused resource was stored with its bad text replaced (e.g. by U+FFFD).
    if (c.channel === 'create' && status >= 400) {
      const all = (await (await s.api('/fhir/Patient?family=bad&_count=50')).json()) as Bundle;
      if (all.entry?.length) {
        tally.replaced++;
        failures.push(
          `${c.name}: a 'bad…' family was stored: ${JSON.stringify(all.entry.map((e) => (e.resource as { name?: unknown }).name))}`,
        );
      }
    }
  }
  return { tally, failures };
}
