/**
 * Drills (演练): a drill record is always an exercise. Running one injects a synthetic outbreak
 * and drives the real workflows through what their modules export, timing each step:
 *
 * 1. alert — a report card of a fixed-threshold disease (config: 霍乱) for a synthetic resident
 *    in the drill's synthetic area (district 999999, which no real area has, so the signal can
 *    never join a real alert) goes in through surveillance's `ingestCards`; the engine's
 *    detection and fusion (`surveillanceRuntime`'s engine) raise the alert.
 * 2. mobilise — the drill's teams are mobilised from that alert by this module (an exercise
 *    mobilisation: acknowledgements are tracked as for a real one).
 * 3. investigation — a real investigation is opened from the drill's report card through
 *    src/investigation's `openInvestigationAs`, as the drill's user, audited as an exercise.
 * 4. specimen — through src/lab's `orderAs`, `shipmentAs` and `scanAs` (the routes' own service
 *    code, as the drill's user, audited with the drill as the reason): an emergency-mode order of
 *    the disease's test (霍乱 → VCHO) for the synthetic resident `drill-<id>`, under the
 *    investigation; the scenario's number of specimens (barcodes `DRILL-<id>-<n>`) collected at
 *    the drill's unit, shipped in one box to `<unit>-LAB`, received (accepted) and put on test.
 * 5. result — each specimen's positive result recorded, verified (the Observation, the
 *    DiagnosticReport and the results-back queue as for a real one) and its report delivered to
 *    the drill's unit.
 *
 * A step whose module is not running on the server, or whose input an earlier step did not
 * produce, is recorded as skipped with that reason; a step that throws is failed with its message.
 *
 * The after-action report lists every step with start, end, duration, its target and whether it
 * was late, the steps skipped and failed, and a summary line.
 */
import type { Patient } from '@medplum/fhirtypes';
import { openInvestigationAs } from '../investigation/index.js';
import { labRuntime, orderAs, scanAs, shipmentAs } from '../lab/index.js';
import { ingestCards, surveillanceRuntime } from '../surveillance/index.js';
import { conflict, notFound } from '../platform/errors.js';
import { chinaDateOf } from '../shared/dates.js';
import { makeIdNumber } from '../shared/id-number.js';
import { DRILL_STEPS, type DrillStep } from './codes.js';
import type { AfterActionReport, DrillBody, DrillList, DrillStepView, DrillView } from './schemas.js';
import { audited, mobilise, nowOf, type Actor, type EmergencyDeps } from './service.js';
import * as store from './store.js';

const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

function drillView(d: store.DrillRow): DrillView {
  return {
    id: d.id,
    name: d.name,
    exercise: true,
    status: d.status,
    plannedFor: iso(d.plannedFor),
    startedAt: iso(d.startedAt),
    endedAt: iso(d.endedAt),
    createdAt: iso(d.createdAt)!,
    createdBy: d.createdBy,
    scenario: d.scenario,
    report: (d.report as AfterActionReport | null) ?? null,
  };
}

export async function createDrill(deps: EmergencyDeps, body: DrillBody, actor: Actor): Promise<DrillView> {
  const now = nowOf(deps);
  const scenario = {
    disease: deps.settings.drill.disease,
    areaCode: deps.settings.drill.areaCode,
    unit: deps.settings.drill.unit,
    teamIds: body.teamIds,
    specimens: body.specimens,
    targetSeconds: { ...deps.settings.drill.targetSeconds, ...(body.targetSeconds ?? {}) },
  };
  return deps.db.transaction(async (c) => {
    const d = await store.insertDrill(c, {
      name: body.name,
      scenario,
      plannedFor: body.plannedFor ? new Date(body.plannedFor) : null,
      at: now,
      by: actor.user.username,
    });
    await audited(deps, c, actor, 'C', 'emergency-drill', [`emergency drill ${d.id}`], `${body.name} (exercise)`);
    return drillView(d);
  });
}
export async function drill(deps: EmergencyDeps, id: number): Promise<DrillView> {
  const d = await store.getDrill(deps.db, id);
  if (!d) throw notFound(`no drill ${id}`);
  return drillView(d);
}
export async function drills(deps: EmergencyDeps, q: { limit: number; offset: number }): Promise<DrillList> {
  const r = await store.listDrills(deps.db, q);
  return {
    items: r.rows.map((d) => {
      const { report: _r, scenario: _s, ...rest } = drillView(d);
      return rest;
    }),
    total: r.total,
    limit: q.limit,
    offset: q.offset,
  };
}

interface Scenario {
  disease: { name: string; icd10: string; class: string };
  areaCode: string;
  unit: string;
  teamIds: number[];
  specimens: number;
  targetSeconds: Record<string, number>;
}

/** A step's outcome as the runner records it. */
interface StepOutcome {
  status: 'done' | 'skipped' | 'failed';
  refs: string[];
  detail: string;
}

/** Runs a planned drill end to end (see the file comment) and stores its after-action report. */
export async function runDrill(deps: EmergencyDeps, id: number, actor: Actor): Promise<DrillView> {
  const startedAt = nowOf(deps);
  const d = await deps.db.transaction(async (c) => {
    const row = await store.getDrill(c, id, true);
    if (!row) throw notFound(`no drill ${id}`);
    if (row.status !== 'planned')
      throw conflict(`drill ${id} is ${row.status}; only a planned drill runs (create another to run it again)`);
    await store.setDrillState(c, id, { status: 'running', startedAt });
    await audited(deps, c, actor, 'U', 'emergency-drill', [`emergency drill ${id}`], 'started (exercise)');
    return row;
  });
  const scenario = d.scenario as unknown as Scenario;
  const steps: DrillStepView[] = [];
  const ctx: { alertIds: number[]; cardId?: string; patientId?: string; investigationId?: number; barcodes: string[] } = {
    alertIds: [],
    barcodes: [],
  };
  const clock = () => nowOf(deps);

  const run = async (step: DrillStep, fn: () => Promise<StepOutcome>) => {
    const targetMs = (scenario.targetSeconds[step] ?? deps.settings.drill.targetSeconds[step] ?? 0) * 1000;
    const t0 = clock();
    const p0 = performance.now();
    let out: StepOutcome;
    try {
      out = await fn();
    } catch (e) {
      out = { status: 'failed', refs: [], detail: (e as Error).message };
    }
    if (out.status === 'skipped') {
      steps.push({
        step,
        status: 'skipped',
        startedAt: null,
        endedAt: null,
        durationMs: null,
        targetMs,
        late: false,
        refs: [],
        detail: out.detail,
      });
      return;
    }
    const durationMs = Math.round((performance.now() - p0) * 10) / 10;
    const t1 = new Date(Math.max(clock().getTime(), t0.getTime() + Math.floor(durationMs)));
    steps.push({
      step,
      status: out.status,
      startedAt: t0.toISOString(),
      endedAt: t1.toISOString(),
      durationMs,
      targetMs,
      late: out.status === 'done' && durationMs > targetMs,
      refs: out.refs,
      detail: out.detail,
    });
  };

  await run('alert', async () => {
    const runtime = surveillanceRuntime.get(deps.db);
    if (!runtime) return { status: 'skipped', refs: [], detail: 'the surveillance module is not running on this server' };
    const now = clock();
    const day = chinaDateOf(now);
    const cardId = `DRILL-${id}-1`;
    const card = drillCard(scenario, cardId, now, id);
    // A synthetic resident marked as an exercise, so the investigation has someone to open for.
    if (deps.repo) {
      const patientId = `drill-${id}`;
      await deps.repo.update('Patient', patientId, {
        resourceType: 'Patient',
        id: patientId,
        meta: { tag: [{ system: EXERCISE_TAG_SYSTEM, code: 'exercise', display: '演练 exercise' }] },
        name: [{ use: 'official', text: String(card.name) }],
        gender: 'male',
        birthDate: '1980-01-01',
        address: [{ use: 'home', text: '演练路1号', extension: [{ url: AREA_CODE_EXTENSION, valueString: scenario.areaCode }] }],
      } as Patient);
      card.patientRef = `Patient/${patientId}`;
      ctx.patientId = patientId;
    }
    const [res] = await ingestCards(runtime.reporting, [card], actor.user.username, async (c, what) =>
      deps.audit.recordNow(c, {
        user: actor.user,
        action: 'C',
        subtype: what.subtype,
        entities: what.entities,
        outcome: 'success',
        outcomeText: `${what.outcomeText ?? ''} (exercise, drill ${id})`,
      }),
    );
    if (!res || res.status === 'rejected')
      return { status: 'failed', refs: [], detail: `the drill's report card was refused: ${JSON.stringify(res?.errors ?? [])}` };
    ctx.cardId = cardId;
    let fused = await runtime.engine.flush();
    // The engine's own timer may have run detection first (it fires 100 ms after a count is touched).
    if (!fused.created.length && !fused.updated.length) fused = await runtime.engine.runAll(day, day);
    ctx.alertIds = [...new Set([...fused.created, ...fused.updated])];
    if (!ctx.alertIds.length)
      return { status: 'failed', refs: [`report card ${cardId}`], detail: 'the card was stored but no alert was raised' };
    return {
      status: 'done',
      refs: [`report card ${cardId}`, ...ctx.alertIds.map((a) => `alert ${a}`)],
      detail: `${scenario.disease.name} (${scenario.disease.icd10}) card for a synthetic resident in ${scenario.areaCode} → alert ${ctx.alertIds.join(', ')}`,
    };
  });

  await run('mobilise', async () => {
    if (!scenario.teamIds.length) return { status: 'skipped', refs: [], detail: 'the drill names no team to mobilise' };
    if (!ctx.alertIds.length)
      return { status: 'skipped', refs: [], detail: 'no alert to mobilise from (the alert step did not raise one)' };
    const m = await mobilise(
      deps,
      {
        source: { kind: 'alert', id: String(ctx.alertIds[0]) },
        teamIds: scenario.teamIds,
        onCallOnly: false,
        reason: `drill ${id} (exercise)`,
        exercise: true,
      },
      actor,
    );
    return {
      status: 'done',
      refs: [`mobilisation ${m.id}`],
      detail: `${m.notified} member(s) notified, acknowledgement within ${m.ackLimitMinutes} min`,
    };
  });

  await run('investigation', async () => {
    if (!ctx.cardId) return { status: 'skipped', refs: [], detail: 'no report card to investigate (the alert step did not store one)' };
    // A card of a disease the automatic rule opens investigations for may already have one (the
    // rule's processor can be quicker than this step): the drill goes on with that one.
    const inv = await openInvestigationAs(deps.db, { reportCardId: ctx.cardId }, actor.user, `exercise, drill ${id}`, {
      continueOpen: true,
    });
    ctx.investigationId = inv.id;
    return {
      status: 'done',
      refs: [`investigation ${inv.id}`],
      detail: `${inv.diseaseName} investigation ${inv.id} ${inv.continued ? 'already open for' : 'opened from'} report card ${ctx.cardId}, due ${inv.deadlineAt}`,
    };
  });
  // The specimens: ordered for the synthetic resident under the investigation, collected at the
  // drill's unit, shipped to the drill's lab, received and put on test there (the lab's own scans).
  const labUser = actor.user;
  const why = `exercise, drill ${id}`;
  const lab = `${scenario.unit}-LAB`;
  const test = DRILL_TESTS[scenario.disease.icd10] ?? DRILL_TESTS.default!;
  await run('specimen', async () => {
    if (!labRuntime.get(deps.db)) return { status: 'skipped', refs: [], detail: 'the lab module is not running on this server' };
    if (!ctx.patientId)
      return { status: 'skipped', refs: [], detail: 'no synthetic resident to sample (the alert step did not create one)' };
    const order = await orderAs(
      deps.db,
      {
        patientId: ctx.patientId,
        testCode: test.code,
        testName: test.name,
        mode: 'emergency',
        orderingUnit: scenario.unit,
        ...(ctx.investigationId ? { investigationId: String(ctx.investigationId) } : {}),
        note: `演练 (exercise), drill ${id}`,
      },
      labUser,
      why,
    );
    const barcodes = Array.from({ length: Math.max(1, scenario.specimens) }, (_, i) => `DRILL-${id}-${i + 1}`);
    for (const barcode of barcodes)
      await scanAs(
        deps.db,
        {
          step: 'collect',
          barcode,
          orderId: order.orderId,
          unit: scenario.unit,
          specimenType: test.specimenType,
          collector: '演练采样员',
          location: '演练现场',
        },
        labUser,
        why,
      );
    const box = await shipmentAs(
      deps.db,
      { fromUnit: scenario.unit, toLab: lab, courier: '演练转运', sealNumber: `DRILL-${id}`, readings: [{ celsius: 4 }] },
      labUser,
      why,
    );
    for (const barcode of barcodes) {
      await scanAs(deps.db, { step: 'ship', barcode, unit: scenario.unit, shipmentId: box.id }, labUser, why);
      await scanAs(deps.db, { step: 'receive', barcode, unit: lab, accepted: true, condition: '完好' }, labUser, why);
      await scanAs(deps.db, { step: 'test', barcode, unit: lab }, labUser, why);
    }
    ctx.barcodes = barcodes;
    return {
      status: 'done',
      refs: [`lab order ${order.orderId}`, `shipment ${box.id}`, ...barcodes.map((b) => `specimen ${b}`)],
      detail: `${barcodes.length} ${test.specimenType} specimen(s) for ${test.name} (${test.code}, emergency limits) collected at ${scenario.unit}, shipped to ${lab}, received and under test${ctx.investigationId ? `, for investigation ${ctx.investigationId}` : ''}`,
    };
  });
  await run('result', async () => {
    if (!ctx.barcodes.length) return { status: 'skipped', refs: [], detail: 'no specimen under test (the specimen step did not take one)' };
    for (const barcode of ctx.barcodes) {
      await scanAs(deps.db, { step: 'result', barcode, unit: lab, value: test.positive, interpretation: 'positive' }, labUser, why);
      await scanAs(deps.db, { step: 'verify', barcode, unit: lab }, labUser, why);
      await scanAs(deps.db, { step: 'report', barcode, unit: lab, deliveredTo: scenario.unit }, labUser, why);
    }
    return {
      status: 'done',
      refs: ctx.barcodes.map((b) => `specimen ${b}`),
      detail: `${ctx.barcodes.length} positive result(s) (${test.positive}) recorded, verified and reported to ${scenario.unit}`,
    };
  });

  const endedAt = clock();
  const report = afterAction(id, startedAt, endedAt, steps);
  await deps.db.transaction(async (c) => {
    await store.setDrillState(c, id, { status: report.failed.length ? 'failed' : 'done', endedAt, report });
    await audited(deps, c, actor, 'U', 'emergency-drill', [`emergency drill ${id}`], report.summary);
  });
  return drill(deps, id);
}

/** The test a drill's specimens take, by the injected disease's ICD-10 code (config/terminology/lab-tests.json). */
const DRILL_TESTS: Record<string, { code: string; name: string; specimenType: string; positive: string }> = {
  A00: { code: 'VCHO', name: '霍乱弧菌O1/O139', specimenType: '粪便', positive: '霍乱弧菌O1群 阳性' },
  default: { code: 'SARS2', name: '新型冠状病毒核酸', specimenType: '咽拭子', positive: '阳性' },
};

const EXERCISE_TAG_SYSTEM = 'https://yifang.health/fhir/CodeSystem/exercise';
const AREA_CODE_EXTENSION = 'https://yifang.health/fhir/StructureDefinition/area-code';

/** The after-action report: steps in order, late/skipped/failed named, and a summary line. */
export function afterAction(drillId: number, startedAt: Date, endedAt: Date, steps: DrillStepView[]): AfterActionReport {
  const ordered = [...steps].sort((a, b) => DRILL_STEPS.indexOf(a.step) - DRILL_STEPS.indexOf(b.step));
  const late = ordered.filter((s) => s.late).map((s) => s.step);
  const skipped = ordered.filter((s) => s.status === 'skipped').map((s) => s.step);
  const failed = ordered.filter((s) => s.status === 'failed').map((s) => s.step);
  const done = ordered.filter((s) => s.status === 'done');
  const totalMs = Math.max(0, endedAt.getTime() - startedAt.getTime());
  const summary =
    `drill ${drillId} (exercise): ${done.length} of ${ordered.length} steps done in ${totalMs} ms` +
    (late.length
      ? `; late: ${late.map((s) => `${s} (${ordered.find((x) => x.step === s)!.durationMs} ms > ${ordered.find((x) => x.step === s)!.targetMs} ms)`).join(', ')}`
      : '; none late') +
    (skipped.length ? `; skipped: ${skipped.join(', ')}` : '') +
    (failed.length ? `; failed: ${failed.join(', ')}` : '');
  return {
    drillId,
    exercise: true,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    totalMs,
    steps: ordered,
    late,
    skipped,
    failed,
    summary,
  };
}

/** A complete report card (the shape surveillance ingests) for a synthetic resident, marked as a drill. */
function drillCard(s: Scenario, cardId: string, now: Date, drillId: number): Record<string, unknown> {
  const day = chinaDateOf(now);
  const stamp = (offsetMin: number) => new Date(now.getTime() - offsetMin * 60_000).toISOString();
  return {
    cardId,
    cardType: 'initial',
    correctsCardId: null,
    name: `演练病例${drillId}`,
    parentName: null,
    idType: '01',
    idNumber: makeIdNumber(s.areaCode.slice(0, 6), '1980-01-01', (drillId % 999) + 1),
    sex: '1',
    birthDate: '1980-01-01',
    age: null,
    workUnit: null,
    phone: null,
    residenceCategory: '本县区',
    address: {
      province: '演练',
      city: '演练',
      county: '演练区',
      township: '演练街道',
      village: '演练社区',
      houseNumber: '演练路1号',
      areaCode: s.areaCode,
    },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '疑似病例',
    chronicity: null,
    onsetDate: day,
    diagnosisDateTime: stamp(2),
    deathDate: null,
    disease: { name: s.disease.name, icd10: s.disease.icd10, subtype: null, class: s.disease.class },
    correctedDiseaseName: null,
    reportingOrganization: { id: `org-${s.unit}`, code: s.unit, name: '演练单位' },
    reportingDoctor: '演练',
    reportDate: stamp(1),
    patientRef: null,
    facilityPatientId: cardId,
    remarks: `演练 (exercise), drill ${drillId}`,
  };
}
