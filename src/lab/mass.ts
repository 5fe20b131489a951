/**
 * Mass testing (大规模核酸检测): a campaign (its test, mode, ordering unit and pool size, with
 * the order its pool tubes are collected under), people registered by list or one QR code at a
 * time, pools (a pool tube is a specimen in the loop: collected, shipped, received, tested,
 * resulted and verified by scans) and their members, progress by area.
 */
import { conflict, notFound, unprocessable } from '../platform/errors.js';
import { parseIdNumber } from '../shared/id-number.js';
import {
  areaProgress,
  positivePoolCount,
  countMembers,
  getCampaign,
  insertCampaign,
  insertMembers,
  insertPeople,
  insertPool,
  listCampaigns,
  peopleByCode,
  poolMembers,
  poolOf,
  poolsOfPeople,
  tubesTaken,
  type CampaignRow,
  type PersonIn,
} from './mass-store.js';
import type { CampaignBody, CampaignView, MembersBody, PeopleAnswer, PeopleBody, PoolBody, PoolView, ProgressView } from './schemas.js';
import { collect, createOrder, specimenView, type Actor, type LabDeps } from './service.js';
import type { Queryable } from '../platform/db.js';
import { specimenByBarcode } from './store.js';

const campaignView = (c: CampaignRow): CampaignView => ({ ...c, createdAt: c.createdAt.toISOString() });

export async function createCampaign(deps: LabDeps, body: CampaignBody, actor: Actor): Promise<CampaignView> {
  const order = await createOrder(
    deps,
    {
      testCode: body.testCode,
      testName: body.testName,
      mode: body.mode ?? 'emergency',
      orderingUnit: body.orderingUnit,
      note: `混采 ${body.name}`,
    },
    actor,
  );
  const now = deps.now ? deps.now() : new Date();
  const row: Omit<CampaignRow, 'id'> = {
    name: body.name,
    testCode: body.testCode,
    mode: order.mode,
    orderingUnit: body.orderingUnit,
    orderId: order.orderId,
    poolSize: body.poolSize ?? 10,
    createdAt: now,
    createdBy: actor.user.username,
  };
  const id = await insertCampaign(deps.db.pool, row);
  return campaignView({ ...row, id });
}

export async function campaigns(deps: LabDeps): Promise<CampaignView[]> {
  return (await listCampaigns(deps.db.pool)).map(campaignView);
}

async function campaignOr404(q: Queryable, id: number): Promise<CampaignRow> {
  const c = await getCampaign(q, id);
  if (!c) throw notFound(`no mass-testing campaign ${id}`);
  return c;
}

/** Splits a CSV list (header: code,name,idNumber,phone,areaCode[,patientId]) into people; bad lines named. */
function peopleFromCsv(text: string): { people: unknown[]; refused: { line: number; reason: string }[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const want = ['code', 'name', 'areaCode'];
  const missing = want.filter((w) => !header.includes(w));
  if (missing.length)
    throw unprocessable(`the list's header names no ${missing.join(', ')} (columns: code,name,idNumber,phone,areaCode,patientId)`);
  const people: unknown[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const cells = line.split(',').map((x) => x.trim());
    const o: Record<string, string | number> = { line: i + 1 };
    header.forEach((h, k) => {
      if (cells[k]) o[h] = cells[k];
    });
    people.push(o);
  }
  return { people, refused: [] };
}

/** Registers people (a list, or one person scanned by QR code): new ones stored, known codes left, bad lines named. */
export async function registerPeople(deps: LabDeps, campaignId: number, body: PeopleBody, actor: Actor): Promise<PeopleAnswer> {
  const campaign = await campaignOr404(deps.db.pool, campaignId);
  const raw = body.csv !== undefined ? peopleFromCsv(body.csv).people : (body.people ?? []);
  if (raw.length > 20_000) throw unprocessable(`at most 20,000 people per upload; this one has ${raw.length}`);
  const refused: { line: number; code: string | null; reason: string }[] = [];
  const ok: PersonIn[] = [];
  const seen = new Set<string>();
  raw.forEach((r0, i) => {
    const r = r0 as Record<string, unknown>;
    const line = typeof r.line === 'number' ? r.line : i + 1;
    const str = (k: string) => (typeof r[k] === 'string' && (r[k] as string).trim() ? (r[k] as string).trim() : null);
    const code = str('code');
    const refuse = (reason: string) => refused.push({ line, code, reason });
    if (!code || !/^[A-Za-z0-9._-]{1,64}$/.test(code)) return refuse('code: the person’s QR code or barcode (letters, digits, . _ -)');
    const name = str('name');
    if (!name || name.length > 100) return refuse('name: required (at most 100 characters)');
    const areaCode = str('areaCode');
    if (!areaCode || !/^\d{6,12}$/.test(areaCode)) return refuse('areaCode: 6–12 digits (统计用区划代码)');
    const idNumber = str('idNumber');
    if (idNumber) {
      const p = parseIdNumber(idNumber);
      if (!p.ok) return refuse(`idNumber: ${p.reason}`);
    }
    const phone = str('phone');
    if (phone && !/^[0-9+\- ]{5,20}$/.test(phone)) return refuse('phone: digits only');
    const patientId = str('patientId');
    if (patientId && !/^[A-Za-z0-9\-.]{1,64}$/.test(patientId)) return refuse('patientId: a Patient id');
    if (seen.has(code)) return refuse(`code ${code} appears twice in this list`);
    seen.add(code);
    ok.push({ code, name, idNumber, phone, areaCode, patientId });
  });
  const now = deps.now ? deps.now() : new Date();
  let registered = 0;
  for (let i = 0; i < ok.length; i += 2000) {
    const slice = ok.slice(i, i + 2000);
    const fresh = await insertPeople(deps.db.pool, campaign.id, slice, now, actor.user.username);
    registered += fresh.size;
  }
  return { campaignId: campaign.id, received: raw.length, registered, alreadyRegistered: ok.length - registered, refused };
}

async function checkMembers(q: Queryable, campaign: CampaignRow, poolBarcode: string, members: MembersBody['members']) {
  const codes = members.map((m) => m.personCode);
  const dup = codes.find((c, i) => codes.indexOf(c) !== i);
  if (dup) throw unprocessable(`person ${dup} is listed twice for pool ${poolBarcode}`);
  const people = await peopleByCode(q, campaign.id, codes);
  const unknown = codes.filter((c) => !people.has(c));
  if (unknown.length)
    throw notFound(`not registered in campaign ${campaign.id}: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}`);
  const inPools = await poolsOfPeople(
    q,
    campaign.id,
    [...people.values()].map((p) => p.id),
  );
  for (const m of members) {
    const other = inPools.get(people.get(m.personCode)!.id);
    if (other) throw conflict(`person ${m.personCode} is already in pool ${other}: a person is sampled into one pool per campaign`);
  }
  const tubes = members.map((m) => m.tubeBarcode).filter((t): t is string => !!t);
  const tubeDup = tubes.find((t, i) => tubes.indexOf(t) !== i);
  if (tubeDup) throw unprocessable(`member tube ${tubeDup} is listed twice`);
  const taken = await tubesTaken(q, tubes);
  if (taken.size) {
    const [t, p] = [...taken][0]!;
    throw conflict(`member tube ${t} is already in pool ${p}`);
  }
  return members.map((m) => ({ personId: people.get(m.personCode)!.id, tubeBarcode: m.tubeBarcode ?? null }));
}

/** Collects a pool tube under the campaign's order (a specimen in the loop) with its first members, in one transaction. */
export async function createPool(deps: LabDeps, body: PoolBody, actor: Actor): Promise<PoolView> {
  const campaign = await campaignOr404(deps.db.pool, body.campaignId);
  if (body.members.length > campaign.poolSize)
    throw unprocessable(`pool ${body.barcode}: ${body.members.length} members, more than the campaign's ${campaign.poolSize}-in-1`);
  await collect(
    deps,
    {
      step: 'collect',
      barcode: body.barcode,
      orderId: campaign.orderId,
      unit: body.unit,
      at: body.at,
      location: body.location,
      specimenType: body.specimenType ?? '咽拭子(混采)',
      container: body.container,
      collector: body.collector,
    },
    actor,
    async (c, s) => {
      await insertPool(c, s.id, campaign.id);
      const members = await checkMembers(c, campaign, body.barcode, body.members);
      if (members.length) await insertMembers(c, s.id, campaign.id, members, s.collectedAt);
    },
  );
  return pool(deps, body.barcode);
}

/** Adds members to a pool still at its collecting unit (before it is shipped), up to the pool size. */
export async function addMembers(deps: LabDeps, barcode: string, body: MembersBody): Promise<PoolView> {
  const now = deps.now ? deps.now() : new Date();
  await deps.db.transaction(async (c) => {
    const s = await specimenByBarcode(c, barcode, true);
    if (!s) throw notFound(`unknown barcode '${barcode}'`);
    const p = await poolOf(c, s.id, true);
    if (!p) throw unprocessable(`specimen ${barcode} is not a pool tube`);
    if (s.state !== 'collected') throw conflict(`pool ${barcode} is ${s.state}: members are added only before it is shipped`);
    const campaign = (await getCampaign(c, p.campaignId))!;
    const n = await countMembers(c, s.id);
    if (n + body.members.length > campaign.poolSize)
      throw unprocessable(`pool ${barcode} holds ${n} of ${campaign.poolSize}; ${body.members.length} more do not fit`);
    await insertMembers(c, s.id, campaign.id, await checkMembers(c, campaign, barcode, body.members), now);
  });
  return pool(deps, barcode);
}

export async function pool(deps: LabDeps, barcode: string): Promise<PoolView> {
  const now = deps.now ? deps.now() : new Date();
  const s = await specimenByBarcode(deps.db.pool, barcode);
  if (!s) throw notFound(`unknown barcode '${barcode}'`);
  const p = await poolOf(deps.db.pool, s.id);
  if (!p) throw notFound(`specimen ${barcode} is not a pool tube`);
  const members = await poolMembers(deps.db.pool, s.id);
  return {
    campaignId: p.campaignId,
    outcome: p.outcome,
    specimen: specimenView(s, now),
    members: members.map((m) => ({
      personCode: m.code,
      name: m.name,
      areaCode: m.areaCode,
      patientId: m.patientId,
      tubeBarcode: m.tubeBarcode,
      state: m.state,
      retestOrderId: m.retestOrderId,
      retestResult: m.retestResult,
      retestAt: m.retestAt?.toISOString() ?? null,
    })),
  };
}

export async function progress(deps: LabDeps, campaignId: number): Promise<ProgressView> {
  const campaign = await campaignOr404(deps.db.pool, campaignId);
  const areas = await areaProgress(deps.db.pool, campaign.id);
  // A pool whose members live in two areas is in both areas' rows, once in the total.
  const positivePools = await positivePoolCount(deps.db.pool, campaign.id);
  const sum = (k: keyof (typeof areas)[number]) => areas.reduce((a, r) => a + (r[k] as number), 0);
  return {
    campaign: campaignView(campaign),
    total: {
      registered: sum('registered'),
      sampled: sum('sampled'),
      tested: sum('tested'),
      negative: sum('negative'),
      positivePools,
      retestOrdered: sum('retestOrdered'),
      retested: sum('retested'),
      retestPositive: sum('retestPositive'),
    },
    byArea: areas,
  };
}
