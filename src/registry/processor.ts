/**
 * Keeps the lookup tables in step with registry resources written outside the registry (a FHIR
 * client updating `Location/area-…` or `Organization/org-…` through /fhir). It follows the change
 * log for Location and Organization; a version carrying the registry tag whose content differs
 * from what the lookup table last recorded is read back into a record (from-fhir.ts) and its row
 * refreshed, and the write hook runs, so maps follow. The registry's own writes match their
 * recorded hash and are passed over. A deleted registry resource leaves the lookup table. Checks
 * that need the whole file (unique codes, known parents) are the import's; here what the FHIR
 * store accepted is kept, and a record the registry cannot read is left as it was.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import type { ChangeRecord, Processor } from '../platform/processors.js';
import { bundleRecords } from './from-fhir.js';
import { REGISTRY_TAG } from './fhir.js';
import { centroidOf, type Boundary } from './geometry.js';
import { notifyRegistryWrite } from './import.js';
import { areaRecord, organizationRecord, placeRecord } from './parse.js';
import { areasByCode, upsertAreas, upsertSites, type AreaRow, type SiteRow } from './store.js';

const hashOf = (r: Resource) => createHash('sha1').update(JSON.stringify(r)).digest('hex');

/** The resource as the registry built it: meta holds only its tags. */
function asBuilt(r: Resource): Resource {
  return { ...r, meta: { tag: r.meta?.tag } } as Resource;
}

const isRegistry = (r: Resource | null) => !!r?.meta?.tag?.some((t) => t.system === REGISTRY_TAG.system && t.code === REGISTRY_TAG.code);

export function registryProcessor(): Processor {
  return {
    name: 'registry-fhir',
    types: ['Location', 'Organization'],
    async handle(changes: ChangeRecord[], client: pg.PoolClient): Promise<void> {
      const latest = new Map<string, ChangeRecord>();
      for (const c of changes) latest.set(`${c.type}/${c.id}`, c);
      const list = [...latest.values()];
      const gone = list.filter((c) => c.deleted);
      if (gone.length) {
        const removedAreas = (
          await client.query<{ code: string }>('DELETE FROM registry_area WHERE resource_id = ANY($1::text[]) RETURNING code', [
            gone.filter((c) => c.type === 'Location').map((c) => c.id),
          ])
        ).rows.map((r) => r.code);
        const removedSites: { code: string; resourceId: string }[] = [];
        for (const type of ['Location', 'Organization']) {
          const r = await client.query<{ code: string; resource_id: string }>(
            'DELETE FROM registry_site WHERE resource_type = $1 AND resource_id = ANY($2::text[]) RETURNING code, resource_id',
            [type, gone.filter((c) => c.type === type).map((c) => c.id)],
          );
          removedSites.push(...r.rows.map((x) => ({ code: x.code, resourceId: x.resource_id })));
        }
        if (removedAreas.length || removedSites.length)
          await notifyRegistryWrite(client, { areas: [], sites: [], removedAreas, removedSites });
      }
      const tagged = list.filter((c) => !c.deleted && isRegistry(c.resource));
      if (!tagged.length) return;
      const known = await client.query<{ resource_type: string; resource_id: string; hash: string }>(
        `SELECT 'Location' AS resource_type, resource_id, hash FROM registry_area WHERE resource_id = ANY($1::text[])
         UNION ALL SELECT resource_type, resource_id, hash FROM registry_site WHERE resource_id = ANY($1::text[])`,
        [tagged.map((c) => c.id)],
      );
      const hashes = new Map(known.rows.map((r) => [`${r.resource_type}/${r.resource_id}`, r.hash]));
      const changed = tagged.filter((c) => hashes.get(`${c.type}/${c.id}`) !== hashOf(asBuilt(c.resource!)));
      if (!changed.length) return;
      const { records } = bundleRecords({ entry: changed.map((c) => ({ resource: c.resource })) });
      const areas: AreaRow[] = [];
      const sites: SiteRow[] = [];
      const areaCodes = records.flatMap((r) => (r.kind !== 'areas' && typeof r.props['area'] === 'string' ? [r.props['area']] : []));
      const storedAreas = await areasByCode(client, areaCodes);
      for (const r of records) {
        const c = changed[r.index]!;
        const hash = hashOf(asBuilt(c.resource!));
        const problems: string[] = [];
        if (r.kind === 'areas') {
          const a = areaRecord(r.props, r.geometry, problems);
          if (problems.length) continue;
          const centroid = a.centroid ?? (a.boundary ? centroidOf(a.boundary as Boundary) : null);
          areas.push({
            code: a.code,
            gb2260: a.gb2260,
            name: a.name,
            level: a.level,
            parentCode: a.parent,
            resourceId: c.id,
            centroid,
            boundary: a.boundary,
            hash,
          });
          continue;
        }
        const street = (area: string | null) => {
          const s = area ? storedAreas.get(area) : undefined;
          return s ? (s.level === 'street' ? s.code : s.level === 'community' ? s.parentCode : null) : null;
        };
        if (r.kind === 'organizations') {
          const o = organizationRecord(r.props, null, problems);
          if (problems.length) continue;
          sites.push({
            code: o.code,
            category: 'organization',
            type: o.type,
            name: o.name,
            areaCode: o.area,
            streetCode: street(o.area),
            parentCode: o.parent,
            resourceType: 'Organization',
            resourceId: c.id,
            position: o.position,
            details: { ...(o.hospitalLevel ? { hospitalLevel: o.hospitalLevel } : {}), ...(o.address ? { address: o.address } : {}) },
            hash,
          });
        } else {
          const p = placeRecord(r.props, null, problems);
          if (problems.length) continue;
          sites.push({
            code: p.code,
            category: 'place',
            type: p.type,
            name: p.name,
            areaCode: p.area,
            streetCode: street(p.area),
            parentCode: p.organization,
            resourceType: 'Location',
            resourceId: c.id,
            position: p.position,
            details: {
              ...(p.sentinelTypes.length ? { sentinelTypes: p.sentinelTypes } : {}),
              ...(p.grades.length ? { grades: p.grades } : {}),
              ...(p.address ? { address: p.address } : {}),
            },
            hash,
          });
        }
      }
      // A code changed through /fhir: the resource's old row goes (its id is unique per table).
      if (areas.length)
        await client.query('DELETE FROM registry_area WHERE resource_id = ANY($1::text[]) AND NOT code = ANY($2::text[])', [
          areas.map((a) => a.resourceId),
          areas.map((a) => a.code),
        ]);
      for (const s of sites)
        await client.query('DELETE FROM registry_site WHERE resource_type = $1 AND resource_id = $2 AND code <> $3', [
          s.resourceType,
          s.resourceId,
          s.code,
        ]);
      await upsertAreas(client, areas);
      await upsertSites(client, sites);
      if (areas.length || sites.length) await notifyRegistryWrite(client, { areas, sites });
    },
  };
}
