/** Immunization prescriptions (免疫处方): the vaccines due for a resident as a FHIR ImmunizationRecommendation. */
import { randomUUID } from 'node:crypto';
import type { ImmunizationRecommendation } from '@medplum/fhirtypes';
import { notFound } from '../../platform/errors.js';
import { pregnantOn } from '../care/store.js';
import { activeConditionCodes, personBasics } from '../chronic/registry-store.js';
import { VACCINE_SYSTEM } from '../chronic/uris.js';
import type { CareDeps } from '../services.js';
import { vaccinesDue } from './schedule.js';
import { givenDoses } from './store.js';

const FORECAST = 'http://terminology.hl7.org/CodeSystem/immunization-recommendation-status';
const DATE_CRITERION = 'http://loinc.org';

/** Vaccines due, overdue or upcoming for a resident on a day; `store` saves the recommendation. */
export async function immunizationRecommendation(
  deps: CareDeps,
  id: string,
  asOf: string,
  store: boolean,
): Promise<ImmunizationRecommendation> {
  const p = await personBasics(deps.db, id);
  if (!p?.birthDate) throw notFound(`Patient/${id} is not known (or has no birth date)`);
  const doses = await givenDoses(deps.db, id);
  const icd = await activeConditionCodes(deps.db, id);
  const pregnant = await pregnantOn(deps.db, id, asOf);
  const due = vaccinesDue({ birthDate: p.birthDate, conditions: icd, pregnant }, doses, deps.config.schedules, asOf);
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
  if (store) await deps.repo.update('ImmunizationRecommendation', rec.id!, rec);
  return rec;
}
