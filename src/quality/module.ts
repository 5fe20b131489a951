/**
 * Data quality (issue #16): values that fail a check are stored as sent with a data-quality
 * mark instead of refusing the record (src/fhir/validate.ts, the HL7 v2 mapping); this module
 * follows the change log and keeps the marks of every Patient version as a queue per facility,
 * an issue open until a later version no longer carries its mark (store.ts), and answers
 * GET /api/data-quality/issues and /facilities (routes.ts).
 */
import type { Resource } from '@medplum/fhirtypes';
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { eventTime, facilityOfRecord, missingFields, patientOf, TRACKED_TYPES } from './completeness.js';
import { marksOf } from './marks.js';
import { registerQualityRoutes } from './routes.js';
import { recordVersions, type RecordVersion } from './store.js';

export const qualityModule: YifangModule = {
  name: 'quality',
  migrations: {
    range: [410, 419],
    list: [
      { version: 410, name: 'quality-queue', sql: sqlFile(new URL('./migrations/410_quality.sql', import.meta.url)) },
      { version: 411, name: 'quality-rates', sql: sqlFile(new URL('./migrations/411_quality_rates.sql', import.meta.url)) },
      { version: 412, name: 'quality-backfill', sql: sqlFile(new URL('./migrations/412_quality_backfill.sql', import.meta.url)) },
    ],
  },
  processors() {
    return [
      {
        name: 'quality-records',
        types: [...TRACKED_TYPES],
        async handle(changes, client) {
          // Only the newest version of each record in the batch matters.
          const latest = new Map<string, (typeof changes)[number]>();
          for (const c of changes) latest.set(`${c.type}/${c.id}`, c);
          const versions: RecordVersion[] = [...latest.values()].map((c) => {
            const resource = c.deleted ? null : (c.resource as Resource | null);
            return {
              type: c.type,
              id: c.id,
              version: c.versionId,
              deleted: !resource,
              facility: resource ? facilityOfRecord(resource) : '',
              marks: resource ? marksOf(resource) : [],
              at: resource?.meta?.lastUpdated,
              ...(resource ? { patientId: patientOf(resource), missing: missingFields(resource), eventAt: eventTime(resource) } : {}),
            };
          });
          await recordVersions(client, versions);
        },
      },
    ];
  },
  async register(ctx) {
    registerQualityRoutes(ctx);
  },
};

export default qualityModule;
