/**
 * 流行病学调查 in the browser: a measles case with a household member and a child who shared
 * its ward is opened through POST /api/investigations (with an overdue cholera investigation
 * beside it); the investigator opens the list, opens the case, sees its trajectory and its
 * contact candidates in words, confirms one, sees the contact and records its check, and the
 * health centre's worklist shows it; then checks missed for two days escalate into the centre's
 * inbox on the worklist (a FHIR Communication each), where one is acknowledged.
 */
import { expect, it } from 'vitest';
import { addDays, todayInChina } from '../../src/shared/dates.js';
import { followUpStep } from '../../src/investigation/follow-up-job.js';
import { investigationRuntime, SYSTEM_USER, systemActor } from '../../src/investigation/module.js';
import { describeInBrowser, type Seeder } from './fixture.js';
import { InvestigationPages } from './pages/investigation.page.js';

const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';
const TODAY = todayInChina();
const ONSET = addDays(TODAY, -3);
const at = (day: string, time = '08:00:00') => `${day}T${time}+08:00`;

/** A FHIR resource as written (its own fields, checked by the server). */
const fhir = <T extends { resourceType: string; id: string }>(r: T): T => r;

const patient = (id: string, name: string, birthDate: string, gender: 'male' | 'female', line: string, phone: string) => ({
  resourceType: 'Patient',
  id,
  name: [{ use: 'official', text: name }],
  gender,
  birthDate,
  telecom: [{ system: 'phone', value: phone }],
  address: [{ use: 'home', extension: [{ url: AREA, valueString: '330102001001' }], line: ['青石街道', line] }],
  managingOrganization: { reference: 'Organization/e2e-inv-chc' },
});

const stay = (id: string, pid: string, start: string, end?: string) => ({
  resourceType: 'Encounter',
  id,
  status: end ? 'finished' : 'in-progress',
  class: { code: 'IMP', display: 'inpatient encounter' },
  subject: { reference: `Patient/${pid}` },
  serviceProvider: { reference: 'Organization/e2e-inv-hosp' },
  period: { start, ...(end ? { end } : {}) },
  location: [{ location: { reference: 'Location/e2e-inv-ward', display: '儿科三病区' } }],
});

async function seedInvestigation(s: Seeder): Promise<{ caseId: number }> {
  await s.putResource(fhir({ resourceType: 'Organization', id: 'e2e-inv-chc', name: '青石街道社区卫生服务中心' }));
  await s.putResource(fhir({ resourceType: 'Organization', id: 'e2e-inv-hosp', name: '市儿童医院' }));
  await s.putResource(fhir({ resourceType: 'Location', id: 'e2e-inv-ward', name: '儿科三病区' }));
  await s.putResource(patient('e2e-inv-case', '王小明', '2019-03-04', 'male', '荷花路8号2幢301室', '13800001111'));
  await s.putResource(patient('e2e-inv-mother', '李芳', '1987-02-11', 'female', '荷花路8号2幢301室', '13800003333'));
  await s.putResource(patient('e2e-inv-ward', '赵一一', '2020-05-06', 'female', '莲花路1号', '13900001111'));
  await s.putResource(patient('e2e-inv-other', '孙三三', '1970-01-01', 'male', '莲花路3号', '13900003333'));
  await s.putResource(
    fhir({
      resourceType: 'Condition',
      id: 'e2e-inv-cond',
      subject: { reference: 'Patient/e2e-inv-case' },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'B05.9', display: '麻疹' }] },
      onsetDateTime: at(ONSET),
      recordedDate: at(TODAY),
    }),
  );
  await s.putResource(stay('e2e-inv-enc-case', 'e2e-inv-case', at(addDays(ONSET, -1), '10:00:00')));
  await s.putResource(stay('e2e-inv-enc-ward', 'e2e-inv-ward', at(addDays(ONSET, -3)), at(addDays(ONSET, 1), '12:00:00')));
  await s.drain();
  const open = async (body: unknown) => {
    const r = await s.postJson('/api/investigations', body);
    const text = await r.text();
    expect(r.status, text).toBe(201);
    return JSON.parse(text) as { id: number };
  };
  const measles = await open({ patientId: 'e2e-inv-case', diseaseCode: 'B05.9' });
  const cholera = await open({ patientId: 'e2e-inv-other', diseaseCode: 'cholera' });
  // The cholera investigation is past its 2-hour deadline: listed first, in red.
  await s.db.query(`UPDATE inv_investigation SET deadline_at = now() - interval '1 hour' WHERE id = $1`, [cholera.id]);
  return { caseId: measles.id };
}

describeInBrowser('case investigation (流调)', { seed: seedInvestigation }, (fx) => {
  it('lists investigations, opens one, confirms a candidate and follows the contact up', async () => {
    const { page, errors } = await fx().signIn();
    const inv = new InvestigationPages(page, fx().url);
    await inv.openList();
    const rows = await inv.rows();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/孙三三[\s\S]*霍乱[\s\S]*甲类[\s\S]*待调查[\s\S]*已超时/);
    expect(rows[1]).toMatch(/王小明[\s\S]*麻疹[\s\S]*乙类[\s\S]*剩余/);
    expect(await inv.total()).toBe('共 2 项调查');
    expect(rows.join('\n')).not.toMatch(/e2e-inv|Patient\/|measles|cholera|open/);
    await inv.screenshot('investigation-list.png');

    await inv.openInvestigation('王小明');
    const header = await inv.header();
    expect(header).toMatch(/麻疹[\s\S]*待调查[\s\S]*剩余 2[34] 小时/);
    expect(header).not.toMatch(/e2e-inv/);
    expect(await page.getByRole('textbox', { name: /姓名/ }).first().inputValue()).toBe('王小明');
    await inv.screenshot('investigation-form.png');

    const stops = await inv.trajectory();
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatch(/市儿童医院[\s\S]*病区[\s\S]*儿科三病区[\s\S]*入院[\s\S]*仍在院/);
    await inv.screenshot('investigation-trajectory.png');

    const candidates = await inv.candidates();
    expect(candidates.join('\n')).toMatch(/李芳[\s\S]*同住[\s\S]*荷花路8号/);
    expect(candidates.join('\n')).toMatch(/赵一一[\s\S]*同病区[\s\S]*儿科三病区/);
    expect(candidates.join('\n')).not.toMatch(/e2e-inv|household|ward\b/);
    await inv.screenshot('investigation-candidates.png');
    await inv.confirmCandidate('李芳');

    const contacts = await inv.contacts();
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatch(/李芳[\s\S]*同住[\s\S]*青石街道社区卫生服务中心[\s\S]*医学观察中/);
    await inv.screenshot('investigation-contacts.png');

    // The health centre's worklist: today's check is due, and recorded from the row.
    const worklist = await inv.openWorklist('e2e-inv-chc');
    expect(worklist).toHaveLength(1);
    expect(worklist[0]).toMatch(/李芳[\s\S]*麻疹[\s\S]*今日待查/);
    expect(await page.getByTestId('worklist-summary').innerText()).toContain('今日待查 1 项');
    await inv.screenshot('investigation-follow-ups.png');
    await inv.recordWorklistCheck('李芳', '36.8');
    expect(await page.getByTestId('worklist-summary').innerText()).toContain('今日已完成 1 项');
    await inv.screenshot('investigation-follow-ups-done.png');
    expect(errors).toEqual([]);
  });

  it("escalates checks missed for a day into the centre's inbox, where one is acknowledged", async () => {
    const s = fx().seeder;
    // 李芳 confirmed three days ago: the checks of the first two days are a day past missed.
    await s.db.query(
      `UPDATE inv_contact SET confirmed_at = now() - interval '3 days', follow_up_start = $1, plan_from = $1 WHERE patient_id = 'e2e-inv-mother'`,
      [addDays(TODAY, -3)],
    );
    const runtime = investigationRuntime.get(s.db)!;
    const actor = systemActor(runtime.audit, SYSTEM_USER, 'e2e');
    let escalated = 0;
    for (let i = 0; i < 3; i++) escalated += (await followUpStep(runtime.deps, actor)).escalated;
    expect(escalated).toBe(2);
    const inProgress = async () => {
      const r = await s.api(`/fhir/Communication?recipient=${encodeURIComponent('Organization/e2e-inv-chc')}&status=in-progress`);
      return ((await r.json()) as { total?: number; entry?: unknown[] }).entry?.length ?? 0;
    };
    expect(await inProgress()).toBe(2);

    const { page, errors } = await fx().signIn();
    const inv = new InvestigationPages(page, fx().url);
    await inv.openWorklist('e2e-inv-chc');
    const inbox = await inv.inbox();
    expect(inbox).toMatch(/待确认的漏访上报[\s\S]*2 条待确认/);
    expect(inbox).toMatch(/李芳[\s\S]*麻疹[\s\S]*随访团队：青石街道社区卫生服务中心（无手机号，仅工作台）/);
    expect(inbox).not.toMatch(/e2e-inv|Organization\//);
    await inv.screenshot('investigation-inbox.png');
    await inv.acknowledgeFromInbox('已电话联系，今日补查');
    await page.getByTestId('escalation-inbox').getByText('1 条待确认').waitFor({ state: 'visible' });
    expect(await inProgress()).toBe(1);
    expect(errors).toEqual([]);
  });
});
