import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { compare, decide, FIELD_NAMES, fitEm, loadLinkageConfig, weightsOf, type Comparison } from './linkage.js';
import { blockingKeys, pinyinOf, splitName, toIdentityRecord } from './record.js';

const ID = makeIdNumber('339902', '1985-03-07', 21);

function patient(
  id: string,
  o: {
    name?: string;
    family?: string;
    given?: string;
    birth?: string;
    sex?: Patient['gender'];
    idNumber?: string;
    phone?: string;
    line?: string;
    org?: string;
  } = {},
): Patient {
  return {
    resourceType: 'Patient',
    id,
    identifier: [
      {
        system: `https://yifang.health/fhir/sid/mrn/${o.org ?? 'org-A'}`,
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
        value: `MRN-${id}`,
      },
      ...(o.idNumber ? [{ system: RESIDENT_ID_SYSTEM, value: o.idNumber }] : []),
    ],
    name: [{ use: 'official', text: o.name ?? '张伟', ...(o.family ? { family: o.family, given: [o.given ?? ''] } : {}) }],
    gender: o.sex ?? 'male',
    birthDate: o.birth ?? '1985-03-07',
    ...(o.phone !== '' ? { telecom: [{ system: 'phone', value: o.phone ?? '13800001111' }] } : {}),
    ...(o.line !== '' ? { address: [{ use: 'home' as const, line: ['青石街道荷花社区', o.line ?? '创业路325号7幢3单元301室'] }] } : {}),
    managingOrganization: { reference: `Organization/${o.org ?? 'org-A'}` },
  };
}

describe('identity records', () => {
  it('reads homophones, traditional forms and pinyin spellings as the same toneless pinyin', () => {
    expect(pinyinOf('赵诗涵').join('')).toBe('zhaoshihan');
    expect(pinyinOf('趙詩涵').join('')).toBe('zhaoshihan');
    expect(toIdentityRecord(patient('a', { name: 'ZHAO SHIHAN', family: 'ZHAO', given: 'SHIHAN' })).namePinyin).toBe('zhaoshihan');
    expect(splitName('欧阳娜娜')).toEqual({ family: '欧阳', given: '娜娜' });
    expect(toIdentityRecord(patient('b', { name: '尉迟恭' })).familyPinyin).toBe('yuchi');
  });
  it('gives day/month-swapped birth dates the same birth-date block', () => {
    const a = blockingKeys(toIdentityRecord(patient('a', { birth: '1985-03-07' })));
    const b = blockingKeys(toIdentityRecord(patient('b', { birth: '1985-07-03' })));
    expect(a.filter((k) => k.startsWith('bd:'))).toEqual(b.filter((k) => k.startsWith('bd:')));
  });
  it('lets a valid ID number decide, links strong scores, and queues nothing for strangers', () => {
    const cfg = loadLinkageConfig();
    const w = weightsOf(cfg.defaults);
    const base = toIdentityRecord(patient('a', { idNumber: ID }));
    const byId = decide(
      toIdentityRecord(patient('b', { idNumber: ID, name: '李四', phone: '13900000000' })),
      [{ record: base, personId: 'P1' }],
      w,
      cfg.thresholds,
    );
    expect(byId).toMatchObject({ kind: 'id', personId: 'P1', assurance: 'level4' });
    const homophone = decide(toIdentityRecord(patient('c', { name: '张玮' })), [{ record: base, personId: 'P1' }], w, cfg.thresholds);
    expect(homophone).toMatchObject({ kind: 'auto', personId: 'P1', assurance: 'level3' });
    const stranger = decide(
      toIdentityRecord(patient('d', { name: '王芳', sex: 'female', phone: '13700000000', line: '白沙路1号' })),
      [{ record: base, personId: 'P1' }],
      w,
      cfg.thresholds,
    );
    expect(stranger.kind).toBe('new');
  });
  it('EM recovers m and u from unlabelled comparison vectors', () => {
    // 10 % matches that agree on each field with p 0.95, non-matches agree with p 0.1
    let x = 7;
    const rnd = () => ((x = (x * 48271) % 2147483647), x / 2147483647);
    const comps: Comparison[] = [];
    for (let i = 0; i < 20_000; i++) {
      const match = i % 10 === 0;
      const c = {} as Comparison;
      for (const f of FIELD_NAMES)
        c[f] = rnd() < (match ? 0.95 : 0.1) ? 0 : f === 'sex' || f === 'phone' ? 1 : f === 'address' || f === 'id' ? 2 : 3;
      comps.push(c);
    }
    const fit = fitEm(comps, loadLinkageConfig().defaults, 0.3, 200);
    expect(fit.matchShare).toBeGreaterThan(0.08);
    expect(fit.matchShare).toBeLessThan(0.12);
    expect(fit.parameters.phone.m[0]).toBeGreaterThan(0.9);
    expect(fit.parameters.phone.u[0]).toBeLessThan(0.15);
  });
  it('compares keying slips in ID numbers as near', () => {
    const a = toIdentityRecord(patient('a', { idNumber: ID }));
    const slip = ID.slice(0, 8) + ID[9] + ID[8] + ID.slice(10);
    expect(compare(a, toIdentityRecord(patient('b', { idNumber: slip }))).id).toBe(1);
  });
});

describeEachStore('master patient index', (server) => {
  const put = async (p: Patient) => {
    const r = await server().api(`/fhir/Patient/${p.id}`, { method: 'PUT', body: JSON.stringify(p) });
    expect(r.status).toBeLessThan(300);
  };
  const personOf = async (id: string) =>
    (await (await server().api(`/api/identity/patients/${id}/person`)).json()) as {
      personId: string;
      patients: { patientId: string; assurance: string }[];
      household: string[];
    };

  it('links Patients from two facilities into one Person (ID number: level4; homophone without ID: level3)', async () => {
    await put(patient('mpi-a', { idNumber: ID }));
    await put(patient('mpi-b', { idNumber: ID, org: 'org-B', name: '張偉' }));
    await put(patient('mpi-c', { org: 'org-C', name: '张玮' }));
    await put(patient('mpi-z', { name: '王芳', sex: 'female', birth: '1990-01-01', phone: '13700000000', line: '白沙路1号' }));
    await server().processors.drain();
    const p = await personOf('mpi-a');
    expect(p.patients.map((x) => `${x.patientId}:${x.assurance}`).sort()).toEqual(['mpi-a:level4', 'mpi-b:level4', 'mpi-c:level3']);
    expect((await personOf('mpi-z')).personId).not.toBe(p.personId);
    const person = (await (await server().api(`/fhir/Person/${p.personId}`)).json()) as {
      link: { target: { reference: string }; assurance: string }[];
    };
    expect(person.link.map((l) => l.target.reference).sort()).toEqual(['Patient/mpi-a', 'Patient/mpi-b', 'Patient/mpi-c']);
    const all = (await (await server().api(`/fhir/Person/${p.personId}/$everything`)).json()) as {
      entry: { resource: { resourceType: string; id: string } }[];
    };
    expect(
      all.entry
        .filter((e) => e.resource.resourceType === 'Patient')
        .map((e) => e.resource.id)
        .sort(),
    ).toEqual(['mpi-a', 'mpi-b', 'mpi-c']);
    expect(p.household.length).toBeGreaterThanOrEqual(1);
  });

  it('answers Patient/$match with scored candidates', async () => {
    const body = {
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: patient('probe', { name: 'ZHANG WEI', family: 'ZHANG', given: 'WEI' }) }],
    };
    const r = await server().api('/fhir/Patient/$match', { method: 'POST', body: JSON.stringify(body) });
    expect(r.status).toBe(200);
    const b = (await r.json()) as { type: string; entry: { resource: { id: string }; search: { score: number } }[] };
    expect(b.type).toBe('searchset');
    expect(b.entry.length).toBeGreaterThan(0);
    expect(['mpi-a', 'mpi-b', 'mpi-c']).toContain(b.entry[0]!.resource.id);
    expect(b.entry[0]!.search.score).toBeGreaterThan(0.5);
    const bad = await server().api('/fhir/Patient/$match', { method: 'POST', body: JSON.stringify({ resourceType: 'Parameters' }) });
    expect(bad.status).toBe(400);
  });

  it('unlinks, merges and undoes, each audited', async () => {
    const before = await personOf('mpi-c');
    const un = (await (
      await server().api('/api/identity/unlink', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ patient: 'mpi-c', reason: 'test' }),
      })
    ).json()) as { event: number; person: string };
    expect((await personOf('mpi-c')).personId).toBe(un.person);
    const undo = await server().api(`/api/identity/events/${un.event}/undo`, { method: 'POST' });
    expect(undo.status).toBe(200);
    expect((await personOf('mpi-c')).personId).toBe(before.personId);
    const z = await personOf('mpi-z');
    const merge = (await (
      await server().api('/api/identity/merge', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: z.personId, into: before.personId }),
      })
    ).json()) as { event: number };
    expect((await personOf('mpi-z')).personId).toBe(before.personId);
    await server().api(`/api/identity/events/${merge.event}/undo`, { method: 'POST' });
    expect((await personOf('mpi-z')).personId).toBe(z.personId);
    const again = await server().api(`/api/identity/events/${merge.event}/undo`, { method: 'POST' });
    expect(again.status).toBe(400);
    await server().audit.flush(); // the buffered AuditEvents written now, not at the next second's flush
    const audits = (await (await server().api('/fhir/AuditEvent?subtype=identity-undo')).json()) as { total?: number; entry?: unknown[] };
    expect(audits.entry?.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  it('queues a between-thresholds pair for review and links it on acceptance', async () => {
    // one character of the given name differs, same birth date and phone, no address or ID number: possible, not certain
    await put(
      patient('rev-a', {
        name: '刘洋',
        birth: '1970-05-05',
        phone: '13100000001',
        line: '',
        idNumber: makeIdNumber('339902', '1970-05-05', 33),
      }),
    );
    await put(patient('rev-b', { name: '刘祥', birth: '1970-05-05', phone: '13100000001', line: '', org: 'org-B' }));
    await server().processors.drain();
    const q = (await (await server().api('/api/identity/review')).json()) as { items: { id: number; patientId: string; score: number }[] };
    const item = q.items.find((i) => i.patientId === 'rev-b');
    expect(item).toBeDefined();
    if (!item) return;
    expect((await personOf('rev-b')).patients).toEqual([expect.objectContaining({ patientId: 'rev-b', assurance: 'level2' })]);
    const r = await server().api(`/api/identity/review/${item.id}/link`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect((await personOf('rev-b')).personId).toBe((await personOf('rev-a')).personId);
  });

  it('keeps each address household as a FHIR Group, searchable by member, as patients arrive, move and go', async () => {
    type Group = {
      id: string;
      type: string;
      actual: boolean;
      quantity: number;
      identifier: { system: string; value: string }[];
      characteristic: { valueCodeableConcept: { text: string } }[];
      member: { entity: { reference: string }; extension: { valueReference: { reference: string } }[] }[];
    };
    const groupsOf = async (patientId: string) => {
      const r = await server().api(`/fhir/Group?member=Patient/${patientId}`);
      expect(r.status).toBe(200);
      return (((await r.json()) as { entry?: { resource: Group }[] }).entry ?? []).map((e) => e.resource);
    };
    await put(
      patient('hh-a', {
        name: '陈静',
        sex: 'female',
        birth: '1961-02-03',
        phone: '13600000001',
        line: '解放路18号2幢1单元502室',
        idNumber: makeIdNumber('339902', '1961-02-03', 12),
      }),
    );
    await put(patient('hh-b', { name: '陈志强', birth: '1988-09-30', phone: '13600000002', line: '解放路18号2幢1单元502室' }));
    await put(
      patient('hh-c', { name: '周敏', sex: 'female', birth: '1990-12-01', phone: '13600000003', line: '解放路 18号 2幢1单元502室' }),
    );
    await server().processors.drain();
    const [g] = await groupsOf('hh-a');
    expect(g).toMatchObject({ type: 'person', actual: true, quantity: 3 });
    expect(g!.identifier[0]!.value).toContain('解放路18号2幢1单元502室');
    expect(g!.characteristic[0]!.valueCodeableConcept.text).toBe(g!.identifier[0]!.value);
    expect(g!.member.map((m) => m.entity.reference).sort()).toEqual(['Patient/hh-a', 'Patient/hh-b', 'Patient/hh-c']);
    const personA = (await personOf('hh-a')).personId;
    expect(g!.member.find((m) => m.entity.reference === 'Patient/hh-a')!.extension[0]!.valueReference.reference).toBe(`Person/${personA}`);
    expect((await groupsOf('hh-b')).map((x) => x.id)).toEqual([g!.id]);
    expect((await personOf('hh-a')).household).toContain((await personOf('hh-c')).personId);
    expect(((await personOf('hh-a')) as unknown as { householdGroups: { group: string }[] }).householdGroups).toEqual([
      expect.objectContaining({ group: `Group/${g!.id}` }),
    ]);

    // hh-c moves: she leaves the old household and forms a new one
    await put(patient('hh-c', { name: '周敏', sex: 'female', birth: '1990-12-01', phone: '13600000003', line: '建设路7号' }));
    await server().processors.drain();
    const [moved] = await groupsOf('hh-c');
    expect(moved!.id).not.toBe(g!.id);
    expect(moved!.member.map((m) => m.entity.reference)).toEqual(['Patient/hh-c']);
    const old = (await (await server().api(`/fhir/Group/${g!.id}`)).json()) as Group;
    expect(old.member.map((m) => m.entity.reference).sort()).toEqual(['Patient/hh-a', 'Patient/hh-b']);
    expect(old.quantity).toBe(2);

    // a manual merge is reflected in the members' Person references
    const personB = (await personOf('hh-b')).personId;
    await server().api('/api/identity/merge', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: personB, into: personA }),
    });
    const merged = (await (await server().api(`/fhir/Group/${g!.id}`)).json()) as Group;
    expect(merged.member.map((m) => m.extension[0]!.valueReference.reference)).toEqual([`Person/${personA}`, `Person/${personA}`]);

    // the last resident leaves: the Group goes
    expect((await server().api('/fhir/Patient/hh-c', { method: 'DELETE' })).status).toBeLessThan(300);
    await server().processors.drain();
    expect(await groupsOf('hh-c')).toEqual([]);
    expect((await server().api(`/fhir/Group/${moved!.id}`)).status).toBe(410);
  });

  it('links a Patient even when a leftover blocking row for it is already in the index', async () => {
    await server().db.query(`INSERT INTO mpi_block (key, patient_id) VALUES ('ph:13900009999', 'left-1')`);
    await put(patient('left-1', { name: '马丽', sex: 'female', birth: '1999-09-09', phone: '13900009999', line: '' }));
    await server().processors.drain();
    expect((await personOf('left-1')).patients.map((p) => p.patientId)).toEqual(['left-1']);
    const keys = await server().db.query<{ key: string }>(`SELECT key FROM mpi_block WHERE patient_id = 'left-1' ORDER BY key`);
    expect(keys.rows.map((r) => r.key.slice(0, 3))).toEqual(['bd:', 'nb:', 'ph:', 'sy:']);
  });

  it('treats a resend of an unchanged Patient as unchanged (no new Person version)', async () => {
    const before = (await (await server().api(`/fhir/Person/${(await personOf('hh-a')).personId}`)).json()) as {
      meta: { versionId: string };
    };
    await put({
      ...patient('hh-a', {
        name: '陈静',
        sex: 'female',
        birth: '1961-02-03',
        phone: '13600000001',
        line: '解放路18号2幢1单元502室',
        idNumber: makeIdNumber('339902', '1961-02-03', 12),
      }),
      meta: { tag: [{ code: 'resend' }] },
    } as Patient);
    await server().processors.drain();
    const after = (await (await server().api(`/fhir/Person/${(await personOf('hh-a')).personId}`)).json()) as {
      meta: { versionId: string };
    };
    expect(after.meta.versionId).toBe(before.meta.versionId);
  });

  it('links HL7 v2 patients from two hospitals by resident ID number', async () => {
    const msg = (f: string, id: string, name: string) =>
      [
        `MSH|^~\\&|HIS|${f}|YIFANG|339902|20260101095100+0800||ADT^A04^ADT_A01|${id}|P|2.5|||||CHN|UNICODE UTF-8`,
        'EVN|A04|20260101095100+0800',
        `PID|1||${id}MRN^^^${f}^MR~${ID}^^^CHN&1.2.156.112606.1.2.1&ISO^NNCHN||${name}^^^^^L||19850307|M`,
        `PV1|1|O|general^^^${f}||||||||||||||||||V${id}`,
      ].join('\r');
    for (const [f, id, name] of [
      ['HOSPA', 'H1', '张^伟'],
      ['HOSPB', 'H2', '張^偉'],
    ] as const) {
      const r = await server().api('/api/hl7', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: msg(f, id, name) });
      expect(await r.text()).toMatch(/MSA\|AA/);
    }
    await server().processors.drain();
    const ids = (
      await server().db.query<{
        id: string;
      }>(`SELECT t.id FROM r_patient t JOIN resource_history h ON h.resource_type = 'Patient' AND h.id = t.id AND h.version_id = t.version_id
       WHERE h.content::text LIKE '%H1MRN%' OR h.content::text LIKE '%H2MRN%'`)
    ).rows.map((r) => r.id);
    expect(ids).toHaveLength(2);
    expect((await personOf(ids[0]!)).personId).toBe((await personOf(ids[1]!)).personId);
  });
});
