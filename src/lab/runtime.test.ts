/**
 * The lab's workflows for other modules and the emergency mode read by the lab, through a running
 * server on both stores: `orderAs`, `shipmentAs` and `scanAs` run the loop as a given user outside
 * an HTTP request, each step audited with the reason; an order naming no mode takes the lab column
 * of the emergency mode in force for the district or the resident's area (平急转换), installed by
 * the emergency module at start.
 */
import type { Bundle, AuditEvent, Patient } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import type { Database } from '../platform/db.js';
import { modeLookupOf } from './mode-lookup.js';
import { labRuntime, orderAs, scanAs, shipmentAs } from './runtime.js';
import type { SpecimenDetail } from './schemas.js';

const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';

describeEachStore('lab workflows as a user, and the emergency mode', (server) => {
  const json = async <T>(r: Response, status: number): Promise<T> => {
    const text = await r.text();
    expect(r.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const post = (path: string, body: unknown) =>
    server().api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const user = { username: 'drill.runner', displayName: '演练人员', roles: ['epidemiologist'] as never[] };
  const resident = async (areaCode?: string) =>
    (
      await json<Patient>(
        await server().api('/fhir/Patient', {
          method: 'POST',
          body: JSON.stringify({
            resourceType: 'Patient',
            name: [{ text: '赵居民' }],
            ...(areaCode ? { address: [{ use: 'home', text: '青石街道1号', extension: [{ url: AREA, valueString: areaCode }] }] } : {}),
          }),
        }),
        201,
      )
    ).id!;
  let inArea = '';
  let elsewhere = '';

  it('runs the loop as a given user outside a request, each step audited with the reason', async () => {
    const db = server().db;
    expect(labRuntime.get(db)).toBeDefined();
    inArea = await resident('339902001001');
    elsewhere = await resident('339903002001');
    const why = 'exercise, drill 99';
    const order = await orderAs(db, { patientId: inArea, testCode: 'SARS2', orderingUnit: 'H001', mode: 'emergency' }, user, why);
    expect(order).toMatchObject({ mode: 'emergency', patientId: inArea, limitsGroup: 'nucleic-acid' });
    const barcode = `AS-${Date.now().toString(36)}`;
    await scanAs(
      db,
      { step: 'collect', barcode, orderId: order.orderId, unit: 'CHC-01', specimenType: '咽拭子', collector: '李护士' },
      user,
      why,
    );
    const box = await shipmentAs(db, { fromUnit: 'CHC-01', toLab: 'CDC-D', courier: '张师傅', sealNumber: 'S-AS' }, user, why);
    for (const body of [
      { step: 'ship' as const, barcode, unit: 'CHC-01', shipmentId: box.id },
      { step: 'receive' as const, barcode, unit: 'CDC-D', accepted: true },
      { step: 'test' as const, barcode, unit: 'CDC-D' },
      { step: 'result' as const, barcode, unit: 'CDC-D', value: '阳性', interpretation: 'positive' as const },
      { step: 'verify' as const, barcode, unit: 'CDC-D' },
    ])
      await scanAs(db, body, user, why);
    const done = await scanAs(db, { step: 'report', barcode, unit: 'CDC-D', deliveredTo: 'H001' }, user, why);
    expect(done.specimen.state).toBe('reported');
    expect(done.event.byUser).toBe('drill.runner');
    // The same rules as the route: a step the state does not allow is refused, naming what comes next.
    await expect(scanAs(db, { step: 'test', barcode, unit: 'CDC-D' }, user, why)).rejects.toMatchObject({ status: 409 });
    const detail = await json<SpecimenDetail>(await server().api(`/api/lab/specimens/${barcode}`), 200);
    expect(detail.events.map((e) => [e.step, e.byUser])).toEqual(
      ['collect', 'ship', 'receive', 'test', 'result', 'verify', 'report'].map((s) => [s, 'drill.runner']),
    );
    expect(detail.custody.ok).toBe(true);
    const audit = (await (await server().api('/fhir/AuditEvent?subtype=lab-verify&_count=20')).json()) as Bundle<AuditEvent>;
    const verify = audit.entry?.map((e) => e.resource!).find((e) => e.outcomeDesc === why);
    expect(verify?.agent?.[0]?.who?.identifier?.value ?? JSON.stringify(verify?.agent)).toContain('drill.runner');
    // Another store (the module not running there) is refused in words.
    await expect(orderAs({} as Database, { testCode: 'SARS2', orderingUnit: 'H001' }, user, why)).rejects.toThrow(
      /lab module is not running on this store/,
    );
  });

  it('gives an order naming no mode the lab mode of the emergency mode in force for its resident’s area', async () => {
    expect(modeLookupOf(server().db)).toBeDefined();
    const mode = async (body: Record<string, unknown>) =>
      (await json<{ mode: string }>(await post('/api/lab/orders', { testCode: 'FLUA', orderingUnit: 'H001', ...body }), 201)).mode;
    expect(await mode({ patientId: inArea })).toBe('routine');

    // Level III for the street: its residents' orders take the emergency limits; others do not.
    const street = await json<{ mode: { id: number } }>(
      await post('/api/emergency/modes', { areaCode: '339902001', level: 'III', reason: '聚集性疫情' }),
      201,
    );
    expect(await mode({ patientId: inArea })).toBe('emergency');
    expect(await mode({ patientId: elsewhere })).toBe('routine');
    expect(await mode({})).toBe('routine'); // an environmental sample: no area, the district-wide mode only
    expect(await mode({ patientId: inArea, mode: 'routine' })).toBe('routine'); // an explicit mode stands
    const fromHospital = await json<{ id: string }>(
      await server().api('/fhir/ServiceRequest', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          priority: 'routine',
          code: { coding: [{ code: 'FLUA' }] },
          subject: { reference: `Patient/${inArea}` },
          requester: { identifier: { value: 'H002' } },
        }),
      }),
      201,
    );
    expect(
      (await json<{ mode: string }>(await post('/api/lab/orders', { serviceRequestId: fromHospital.id }), 201)).mode,
      'an adopted routine ServiceRequest in an area under emergency mode',
    ).toBe('emergency');

    // Level IV keeps the routine limits (config/emergency: labMode routine).
    const lower = await json<{ mode: { id: number }; replaced: { id: number } | null }>(
      await post('/api/emergency/modes', { areaCode: '339902001', level: 'IV', reason: '降级' }),
      201,
    );
    expect(lower.replaced?.id).toBe(street.mode.id);
    expect(await mode({ patientId: inArea })).toBe('routine');
    await json(await post(`/api/emergency/modes/${lower.mode.id}/end`, { reason: '结束' }), 200);

    // District-wide level II: every order, with or without a resident.
    const district = await json<{ mode: { id: number } }>(await post('/api/emergency/modes', { level: 'II', reason: '全区应急' }), 201);
    expect(await mode({ patientId: elsewhere })).toBe('emergency');
    expect(await mode({})).toBe('emergency');
    await json(await post(`/api/emergency/modes/${district.mode.id}/end`, { reason: '解除' }), 200);
    expect(await mode({ patientId: elsewhere })).toBe('routine');

    // An exercise mode never changes real work.
    const drill = await json<{ mode: { id: number } }>(
      await post('/api/emergency/modes', { level: 'I', reason: '演练', exercise: true }),
      201,
    );
    expect(await mode({ patientId: inArea })).toBe('routine');
    await json(await post(`/api/emergency/modes/${drill.mode.id}/end`, { reason: '演练结束' }), 200);
  });
});
