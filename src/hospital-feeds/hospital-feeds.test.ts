import ExcelJS from 'exceljs';
/**
 * Hospital CSV feeds end to end through a running server, on both stores: a GB18030 set of the six
 * templates from one facility becomes FHIR, its patient is linked by the MPI with an HL7 patient of
 * another facility, a re-upload writes nothing new, flawed values are stored marked, a row without a
 * patient goes to the dead letters and is reprocessed after correction, and bad files are refused.
 */
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { DATA_QUALITY_EXTENSION } from '../shared/data-quality.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import type { DeadLetterList, UploadDetail } from './schemas.js';
import { hospitalFeedWorker } from './module.js';
import { matchHeader, templateCsv } from './templates.js';
import { deterministicId, parseWhen, phoneProblem, rowToFhir } from './to-fhir.js';

const FAC = 'WSY-01';
const ID1 = makeIdNumber('140602', '1980-05-06', 11);
const ID2 = makeIdNumber('140602', '1992-11-20', 22);
const BAD_ID = `${ID2.slice(0, 17)}${ID2[17] === '0' ? '1' : '0'}`;

const FILES: Record<string, string> = {
  patients: [
    '患者编号,身份证号,姓名,性别,出生日期,联系电话,住址',
    `P001,${ID1},李建国,男,1980-05-06,13912345678,朔城区南榆林乡1号`,
    `P002,${BAD_ID},王秀英,女,1992/11/20,1391234,朔城区北旺庄街道2号`,
  ].join('\r\n'),
  visits: ['患者编号,身份证号,姓名,门诊号,就诊日期,就诊类型,科室', `P001,${ID1},李建国,V001,2025-01-02 09:30,门诊,发热门诊`].join('\r\n'),
  diagnoses: ['患者编号,门诊号,诊断编码,诊断名称,诊断日期,诊断类别', 'P001,V001,J10.1,流行性感冒,2025-01-02,确诊'].join('\r\n'),
  'lab-results': [
    '患者编号,门诊号,检验单号,检验项目编码,检验项目名称,结果,单位,参考范围,标本类型,采样时间,报告时间',
    'P001,V001,L001,LIS0231,甲型流感病毒核酸,阳性,,阴性,咽拭子,2025-01-02 10:00,2025-01-02 15:00',
    'P001,V001,L001,GLU,葡萄糖,5.6,mmol/L,3.9-6.1,血清,2025-01-02 10:00,2025-01-02 15:00',
    ',,L002,GLU,葡萄糖,7.2,mmol/L,3.9-6.1,血清,2025-01-02 10:00,2025-01-02 15:00',
  ].join('\r\n'),
  prescriptions: [
    '患者编号,门诊号,处方号,药品编码,药品名称,剂量,频次,天数,开方日期',
    'P001,V001,RX1,X0001,奥司他韦胶囊,75mg,bid,5,2025-01-02',
  ].join('\r\n'),
  immunizations: [
    '患者编号,身份证号,疫苗编码,疫苗名称,批号,接种日期,剂次,生产企业',
    `P001,${ID1},Flu,流感疫苗,202409A,2024-10-15,1,某生物制品有限公司`,
  ].join('\r\n'),
};

describe('hospital feed templates and rows (pure)', () => {
  it('writes a template file Excel opens (UTF-8 BOM, Chinese header)', () => {
    const csv = templateCsv('lab-results');
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv.split('\r\n')[0]).toContain('检验项目编码');
  });
  it('matches headers by name, alias or mapping, and refuses a mapping naming a missing column', () => {
    expect(matchHeader('patients', ['病历号', 'id_number', 'NAME'])).toMatchObject({
      ok: true,
      index: { patient_no: 0, id_number: 1, name: 2 },
    });
    const r = matchHeader('patients', ['病历号', '姓名'], { id_number: '证件号' });
    expect(r).toMatchObject({ ok: false, column: '证件号' });
  });
  it('reads dates as hospitals write them and checks phones', () => {
    expect(parseWhen('2025年1月2日')).toEqual({ kind: 'date', value: '2025-01-02' });
    expect(parseWhen('20250102 0930')).toEqual({ kind: 'dateTime', value: '2025-01-02T09:30:00+08:00' });
    expect(parseWhen('2025-02-30')).toBeUndefined();
    expect(phoneProblem('13912345678')).toBeUndefined();
    expect(phoneProblem('0349-2012345')).toBeUndefined();
    expect(phoneProblem('1391234')).toMatch(/wrong length/);
  });
  it('gives a row the same ids every time and dead-letters a row without a patient', () => {
    const a = rowToFhir('visits', FAC, { patient_no: 'P1', visit_no: 'V1', visit_date: '2025-01-01' });
    const b = rowToFhir('visits', FAC, { patient_no: 'P1', visit_no: 'V1', visit_date: '2025-01-01' });
    expect(a).toEqual(b);
    expect(a.ok && a.resources.map((r) => r.resource.id)).toEqual([
      deterministicId(`${FAC}|Patient|mrn:P1`),
      deterministicId(`${FAC}|Encounter|V1`),
    ]);
    expect(rowToFhir('visits', FAC, { visit_no: 'V1', visit_date: '2025-01-01' })).toMatchObject({ ok: false, column: '身份证号' });
    expect(rowToFhir('visits', FAC, { patient_no: 'P1', visit_no: 'V1', visit_date: '昨天' })).toMatchObject({
      ok: false,
      column: '就诊日期',
    });
  });
});

describeEachStore('hospital CSV feeds', (server) => {
  const upload = async (template: string, body: Buffer | string, query = '') =>
    server().api(`/api/hospital-feeds/${template}/uploads?facility=${FAC}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: new Uint8Array(typeof body === 'string' ? iconv.encode(body, 'gb18030') : body),
    });
  const finished = async (id: number): Promise<UploadDetail> => {
    for (let i = 0; i < 600; i++) {
      const u = (await (await server().api(`/api/hospital-feeds/uploads/${id}`)).json()) as UploadDetail;
      if (u.status !== 'queued' && u.status !== 'running') return u;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`upload ${id} did not finish`);
  };
  const uploadAll = async () => {
    const out: Record<string, UploadDetail> = {};
    for (const [t, text] of Object.entries(FILES)) {
      const r = await upload(t, text);
      expect(r.status, await r.clone().text()).toBe(202);
      const { uploadId, encoding } = (await r.json()) as { uploadId: number; encoding: string };
      expect(encoding).toBe('gb18030');
      out[t] = await finished(uploadId);
    }
    return out;
  };
  const search = async (q: string) =>
    ((await (await server().api(`/fhir/${q}`)).json()) as Bundle).entry?.map((e) => e.resource as Resource) ?? [];
  const historyCount = async () =>
    Number(
      (await server().db.query<{ n: string }>("SELECT count(*) AS n FROM resource_history WHERE resource_type <> 'AuditEvent'")).rows[0]!.n,
    );
  const mrn = (v: string) => `identifier=${encodeURIComponent(`https://yifang.health/fhir/sid/mrn/${FAC}`)}|${v}`;

  it('offers the template file for download', async () => {
    const r = await server().api('/api/hospital-feeds/templates/immunizations.csv');
    expect(r.status).toBe(200);
    const bytes = Buffer.from(await r.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).toContain('疫苗编码');
  });

  let firstReport: Record<string, UploadDetail> = {};
  it('stores a GB18030 set of all six templates as FHIR, flawed values marked, a row without patient dead-lettered', async () => {
    firstReport = await uploadAll();
    for (const u of Object.values(firstReport)) expect(u.status).toBe('done');
    expect(firstReport.patients).toMatchObject({ rowsRead: 2, rowsStored: 2, rowsDead: 0, rowsFlagged: 1 });
    expect(firstReport['lab-results']).toMatchObject({ rowsRead: 3, rowsStored: 2, rowsDead: 1 });
    expect(firstReport['lab-results']!.problems[0]).toMatchObject({ line: 4, column: '身份证号', kind: 'dead-letter' });

    const [p1] = (await search(`Patient?${mrn('P001')}`)) as Patient[];
    expect(p1?.name?.[0]?.text).toBe('李建国');
    expect(p1?.identifier?.find((i) => i.system === RESIDENT_ID_SYSTEM)?.value).toBe(ID1);
    expect(await search(`Encounter?subject=Patient/${p1!.id}`)).toHaveLength(1);
    const conditions = await search(`Condition?subject=Patient/${p1!.id}`);
    expect(conditions.map((c) => (c as { code: { coding: { code: string }[] } }).code.coding[0]!.code)).toEqual(['J10.1']);
    expect(await search(`Observation?subject=Patient/${p1!.id}`)).toHaveLength(2);
    expect(await search(`MedicationRequest?subject=Patient/${p1!.id}`)).toHaveLength(1);
    expect(await search(`Immunization?patient=Patient/${p1!.id}`)).toHaveLength(1);

    // The ID number failing its check digit is stored, marked; so is the short phone.
    const [p2] = (await search(`Patient?${mrn('P002')}`)) as Patient[];
    const bad = p2!.identifier!.find((i) => i.value === BAD_ID)!;
    expect(bad.extension?.[0]?.url).toBe(DATA_QUALITY_EXTENSION);
    expect(p2!.telecom?.[0]?.extension?.[0]?.url).toBe(DATA_QUALITY_EXTENSION);
    expect(p2!.birthDate).toBe('1992-11-20');
  });

  it('reads an Excel workbook (.xlsx) like the CSV: the first sheet, dates as the cells show them', async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('患者');
    const [header, ...rows] = FILES.patients!.trim()
      .split(/\r?\n/)
      .map((l) => l.split(','));
    sheet.addRow(header);
    for (const r of rows) sheet.addRow(r.map((c) => (/^\d{4}-\d{2}-\d{2}$/.test(c) ? new Date(`${c}T00:00:00Z`) : c)));
    const bytes = Buffer.from(await book.xlsx.writeBuffer());
    const r = await server().api(`/api/hospital-feeds/patients/uploads?facility=${FAC}&fileName=${encodeURIComponent('患者.xlsx')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
      body: new Uint8Array(bytes),
    });
    expect(r.status, await r.clone().text()).toBe(202);
    const { uploadId } = (await r.json()) as { uploadId: number };
    const done = await finished(uploadId);
    expect(done).toMatchObject({ status: 'done', rowsRead: 2, rowsStored: 2, rowsDead: 0 });
    const [p1] = (await search(`Patient?${mrn('P001')}`)) as Patient[];
    expect(p1?.name?.[0]?.text).toBe('李建国');
  });

  it('links the CSV patient with an HL7 patient of another facility having the same ID number', async () => {
    const msg =
      [
        `MSH|^~\\&|HIS|HOSP-B|YIFANG|DISTRICT|20250103100000+0800||ADT^A04^ADT_A01|HF-MPI-1|P|2.5|||||CHN|UNICODE UTF-8`,
        'EVN|A04|20250103100000+0800',
        `PID|1||B-77^^^HOSP-B^MR~${ID1}^^^^NNCHN||李^建国||19800506|M`,
        'PV1|1|O|内科^^^HOSP-B||||||||||||||||||VB1',
      ].join('\r') + '\r';
    const r = await server().api('/api/hl7', { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: msg });
    expect(r.status).toBeLessThan(300);
    await server().processors.drain();
    const [p1] = (await search(`Patient?${mrn('P001')}`)) as Patient[];
    const person = (await (await server().api(`/api/identity/patients/${p1!.id}/person`)).json()) as { patients: { patientId: string }[] };
    const hl7 = (await search(`Patient?identifier=${encodeURIComponent('https://yifang.health/fhir/sid/mrn/HOSP-B')}|B-77`)) as Patient[];
    expect(hl7).toHaveLength(1);
    expect(person.patients.map((p) => p.patientId).sort()).toEqual([p1!.id, hl7[0]!.id].sort());
  });

  it('re-uploading the same files writes nothing new; a corrected row updates', async () => {
    await server().processors.drain();
    const before = await historyCount();
    const again = await uploadAll();
    await server().processors.drain();
    expect(await historyCount()).toBe(before);
    for (const [t, u] of Object.entries(again)) {
      expect(u.resourcesWritten, t).toBe(0);
      expect(u.rowsUnchanged, t).toBe(u.rowsStored);
    }
    const [p1] = (await search(`Patient?${mrn('P001')}`)) as Patient[];
    expect(p1!.meta?.versionId).toBe('1');
    const fixed = FILES.patients!.replace('13912345678', '13987654321');
    const u = await finished(((await (await upload('patients', fixed)).json()) as { uploadId: number }).uploadId);
    expect(u).toMatchObject({ rowsStored: 2, rowsUnchanged: 1, resourcesWritten: 1 });
    const [p1b] = (await search(`Patient?${mrn('P001')}`)) as Patient[];
    expect(p1b!.meta?.versionId).toBe('2');
    expect(p1b!.telecom?.[0]?.value).toBe('13987654321');
  });

  it('resumes an upload interrupted by a restart after its last committed rows, writing nothing twice', async () => {
    const id = firstReport.immunizations!.id;
    await server().db.query(`UPDATE hf_upload SET status = 'running', rows_read = 0, rows_stored = 0, finished_at = NULL WHERE id = $1`, [
      id,
    ]);
    await server().processors.drain();
    const before = await historyCount();
    await hospitalFeedWorker()!.resume();
    const u = await finished(id);
    await server().processors.drain();
    expect(u).toMatchObject({ status: 'done', rowsRead: 1, rowsStored: 1 });
    expect(await historyCount()).toBe(before);
  });

  it('fails an upload whose CSV stops parsing (an unclosed quote), naming the place', async () => {
    const r = await upload('patients', '患者编号,姓名\r\nQ1,赵一\r\nQ2,"钱二\r\n');
    expect(r.status).toBe(202);
    const u = await finished(((await r.json()) as { uploadId: number }).uploadId);
    expect(u.status).toBe('failed');
    expect(u.error).toMatch(/quote|Quote/);
  });

  it('reprocesses a dead letter after correction and lists it resolved', async () => {
    const list = (await (await server().api(`/api/hospital-feeds/dead-letters?facility=${FAC}&status=open`)).json()) as DeadLetterList;
    expect(list.total).toBe(1);
    const dl = list.items[0]!;
    expect(dl).toMatchObject({ line: 4, template: 'lab-results', column: '身份证号' });
    expect(dl.lineText).toBe(',,L002,GLU,葡萄糖,7.2,mmol/L,3.9-6.1,血清,2025-01-02 10:00,2025-01-02 15:00');
    const r = await server().api(`/api/hospital-feeds/dead-letters/${dl.id}/reprocess`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ line: `P002,V009,${dl.lineText.slice(2)}` }),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'resolved' });
    const [p2] = (await search(`Patient?${mrn('P002')}`)) as Patient[];
    expect(await search(`Observation?subject=Patient/${p2!.id}`)).toHaveLength(1);
    const after = (await (await server().api(`/api/hospital-feeds/dead-letters?uploadId=${dl.uploadId}`)).json()) as DeadLetterList;
    expect(after.items[0]!.status).toBe('resolved');
  });

  it('refuses a mapping naming a missing column (400 naming it) and bytes in no known encoding (400 naming the line)', async () => {
    const put = await server().api(`/api/hospital-feeds/mappings/${FAC}/visits`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ columns: { visit_no: '挂号流水号' } }),
    });
    expect(put.status).toBe(200);
    const refused = await upload('visits', FILES.visits!);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('挂号流水号');
    await server().api(`/api/hospital-feeds/mappings/${FAC}/visits`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ columns: {} }),
    });

    const garbage = Buffer.concat([
      Buffer.from('患者编号,姓名\r\nP9,', 'utf8'),
      Buffer.from([0xff, 0xfe, 0x80, 0x81, 0xff]),
      Buffer.from('\r\n'),
    ]);
    const r = await upload('patients', garbage);
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/line 2/);
    const list = (await (await server().api(`/api/hospital-feeds/uploads?facility=${FAC}&limit=2`)).json()) as {
      total: number;
      items: UploadDetail[];
    };
    expect(list.items[0]).toMatchObject({ status: 'refused' });
    expect(list.total).toBeGreaterThan(12);
  });
});
