/** Immunization prescriptions (免疫处方): vaccines due as a FHIR ImmunizationRecommendation. */
import { randomUUID } from 'node:crypto';
import type { ImmunizationRecommendation } from '@medplum/fhirtypes';
import { describeRoute } from '../../platform/openapi.js';
import { notFound } from '../../platform/errors.js';
import type { ModuleContext } from '../../platform/module.js';
import { asOfParam, type ChronicConfig } from '../chronic/context.js';
import { VACCINE_SYSTEM } from '../chronic/uris.js';
import { vaccinesDue } from './schedule.js';

const FORECAST = 'http://terminology.hl7.org/CodeSystem/immunization-recommendation-status';
const DATE_CRITERION = 'http://loinc.org';

export function registerImmunizationRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  describeRoute({
    method: 'get',
    path: '/api/immunization/residents/{id}/recommendation',
    summary: 'Vaccines due/overdue/upcoming for a resident as a FHIR ImmunizationRecommendation (?asOf=, ?store=true saves it)',
    tag: 'immunization',
  });
  ctx.app.get('/api/immunization/residents/:id/recommendation', async (req) => {
    await ctx.guard(req, 'care:read');
    const { id } = req.params as { id: string };
    const q = req.query as Record<string, string | undefined>;
    const asOf = asOfParam(q.asOf);
    const person = await ctx.db.query<{ birth_date: string | null; name: string | null }>(
      `SELECT to_char(birth_date, 'YYYY-MM-DD') AS birth_date, name FROM chronic_person WHERE patient_id = $1`,
      [id],
    );
    const p = person.rows[0];
    if (!p?.birth_date) throw notFound(`Patient/${id} is not known (or has no birth date)`);
    const doses = await ctx.db.query<{ vaccine: string; given_on: string }>(
      `SELECT vaccine, to_char(given_on, 'YYYY-MM-DD') AS given_on FROM imm_dose WHERE patient_id = $1 ORDER BY given_on`,
      [id],
    );
    const icd = (await ctx.db.query<{ icd: string }>('SELECT icd FROM chronic_condition WHERE patient_id = $1 AND active', [id])).rows.map(
      (r) => r.icd,
    );
    const pregnant =
      (
        await ctx.db.query(
          `SELECT 1 FROM care_key_population WHERE patient_id = $1 AND population = 'pregnant' AND (start_on IS NULL OR start_on <= $2::date) AND (end_on IS NULL OR end_on >= $2::date) LIMIT 1`,
          [id, asOf],
        )
      ).rows.length > 0;
    const due = vaccinesDue(
      { birthDate: p.birth_date, conditions: icd, pregnant },
      doses.rows.map((d) => ({ vaccine: d.vaccine, date: d.given_on })),
      config.schedules,
      asOf,
    );
    const rec: ImmunizationRecommendation = {
      resourceType: 'ImmunizationRecommendation',
      id: randomUUID(),
      patient: { reference: `Patient/${id}`, display: p.name ?? undefined },
      date: `${asOf}T00:00:00+08:00`,
      recommendation: due.map((d) => ({
        vaccineCode: [{ coding: [{ system: VACCINE_SYSTEM, code: d.vaccine, display: d.name }], text: d.name }],
        forecastStatus: {
          coding: [{ system: FORECAST, code: d.status === 'overdue' ? 'overdue' : 'due' }],
          text: d.status === 'overdue' ? '逾期（补种）' : d.status === 'upcoming' ? '即将到期' : '应种',
        },
        dateCriterion: [
          {
            code: { coding: [{ system: DATE_CRITERION, code: '30980-7', display: 'Date vaccine due' }] },
            value: `${d.dueDate}T00:00:00+08:00`,
          },
        ],
        description: d.reason,
        series: d.schedule,
        doseNumberPositiveInt: d.dose,
      })),
    };
    if (q.store === 'true') await ctx.repo.update('ImmunizationRecommendation', rec.id!, rec);
    return rec;
  });
}
