/** /api/terminology/…: the unmapped queue, suggestions, the target list, mapping one code, and ConceptMaps. */
import type { ConceptMap } from '@medplum/fhirtypes';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { facilityOfMap } from './concept-map.js';
import {
  ConceptMapBody,
  ConceptMapList,
  ConceptMapPageQuery,
  ConceptMapParams,
  FacilityQuery,
  FacilityQueueList,
  LabTargetList,
  MappingBody,
  MappingResult,
  SuggestionList,
  SuggestQuery,
  TargetsQuery,
  UnmappedList,
  UnmappedQuery,
  type ConceptMapSummary,
} from './schemas.js';
import { applyMapping, conceptMapOrThrow, storeConceptMap } from './service.js';
import { listUnmapped, pageConceptMaps, queueByFacility } from './store.js';
import { KIND_TARGET_SYSTEM, terminologyTables } from './kinds.js';
import { suggestTargets } from './suggest.js';

const tags = ['terminology'];

const summary = (cm: ConceptMap): ConceptMapSummary => ({
  id: cm.id!,
  version: cm.meta?.versionId ?? '',
  lastUpdated: cm.meta?.lastUpdated ?? null,
  title: cm.title ?? cm.name ?? null,
  status: cm.status,
  facility: facilityOfMap(cm),
  sourceSystem: cm.group?.[0]?.source ?? '',
  targetSystem: cm.group?.[0]?.target ?? '',
  elements: (cm.group ?? []).reduce((n, g) => n + (g.element?.length ?? 0), 0),
});

export function registerTerminologyRoutes(ctx: ModuleContext): void {
  const app = typed(ctx.app);
  const deps = { db: ctx.db, repo: ctx.repo, audit: ctx.audit };

  app.get(
    '/api/terminology/unmapped',
    {
      schema: {
        summary:
          'Unmapped codes: local lab-test codes (kind=lab, default), specimen types (kind=specimen), units (kind=unit) or encounter diagnoses (kind=diagnosis: no ICD-10 coding, no map, text naming no single notifiable disease) no ConceptMap knows yet, per facility and code system, with their text, how many records carried them, example record ids and (open ones) suggested targets; most frequent first, paged with the total',
        tags,
        querystring: UnmappedQuery,
        response: { 200: UnmappedList },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const list = await listUnmapped(ctx.db.pool, req.query);
      const tables = terminologyTables();
      for (const item of list.items)
        if (item.status === 'open') item.suggestions = suggestTargets(tables, item.display ?? item.code, 3, item.kind);
      void ctx.audit.record({
        user,
        action: 'E',
        subtype: 'search',
        entities: ['unmapped codes'],
        outcome: 'success',
        query: req.url,
        sourceAddress: req.ip,
      });
      return list;
    },
  );

  app.get(
    '/api/terminology/facilities',
    {
      schema: {
        summary:
          'The unmapped queue per facility: open codes, records carrying them, codes ever queued (of one kind, or all); most open records first',
        tags,
        querystring: FacilityQuery,
        response: { 200: FacilityQueueList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      const facilities = await queueByFacility(ctx.db.pool, req.query.kind);
      return { total: facilities.length, facilities };
    },
  );

  app.get(
    '/api/terminology/suggest',
    {
      schema: {
        summary:
          'Targets of a kind whose Chinese or English names and aliases best match a code text (甲型流感病毒核酸 → FLUA; kind=specimen 鼻咽拭子 → 258500001; kind=unit μmol/L → umol/L; kind=diagnosis 流行性感冒 → J10, J11)',
        tags,
        querystring: SuggestQuery,
        response: { 200: SuggestionList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return { suggestions: suggestTargets(terminologyTables(), req.query.text, req.query.limit, req.query.kind) };
    },
  );

  app.get(
    '/api/terminology/targets',
    {
      schema: {
        summary:
          "The targets of one kind: the lab-test codes signals count (Yifang's CodeSystem lab-test, with the LOINC codes that count as each without mapping), the SNOMED CT specimen concepts (with their HL7 v2 table 0487/0070 codes), the UCUM units (with the spellings that resolve to each) or the notifiable diseases' ICD-10 codes (config/surveillance/notifiable-diseases.json; a diagnosis map may also name any other ICD-10 code)",
        tags,
        querystring: TargetsQuery,
        response: { 200: LabTargetList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      const kind = req.query.kind;
      const tables = terminologyTables();
      if (kind === 'lab') {
        const t = tables.lab;
        const loinc = new Map<string, string[]>();
        for (const [l, code] of t.loinc) loinc.set(code, [...(loinc.get(code) ?? []), l]);
        return {
          kind,
          system: KIND_TARGET_SYSTEM.lab,
          total: t.targets.length,
          targets: t.targets.map((x) => ({ code: x.code, zh: x.zh, en: x.en, aliases: x.aliases, loinc: loinc.get(x.code) ?? [] })),
        };
      }
      if (kind === 'specimen') {
        const t = tables.specimen;
        return {
          kind,
          system: t.system,
          source: t.source,
          total: t.targets.length,
          targets: t.targets.map((x) => ({
            code: x.code,
            zh: x.zh,
            en: x.en,
            aliases: x.aliases,
            loinc: [],
            class: x.class,
            hl7v2: [...x.hl7v2['0487'].map((c) => `0487:${c}`), ...x.hl7v2['0070'].map((c) => `0070:${c}`)],
          })),
        };
      }
      if (kind === 'diagnosis') {
        const t = tables.diagnosis;
        return {
          kind,
          system: t.system,
          source: t.source,
          total: t.targets.length,
          targets: t.targets.map((x) => ({
            code: x.code,
            zh: x.zh,
            en: x.en,
            aliases: x.aliases,
            loinc: [],
            disease: x.disease,
            diseaseClass: x.class,
          })),
        };
      }
      const t = tables.unit;
      return {
        kind,
        system: t.system,
        source: t.source,
        total: t.targets.length,
        targets: t.targets.map((x) => ({ code: x.code, zh: x.zh, en: x.en, aliases: x.aliases, loinc: [] })),
      };
    },
  );

  app.put(
    '/api/terminology/mappings',
    {
      schema: {
        summary:
          "Maps one local code of a facility — a lab-test code (kind=lab, default), a specimen type (kind=specimen, to SNOMED CT), a unit (kind=unit, to UCUM) or a diagnosis (kind=diagnosis, to an ICD-10 code) — or, target null, marks it reviewed and not needed: a new version of that facility's ConceptMap for the kind; stored lab results with a newly mapped lab-test code are then counted as signals, and stored visits with a newly mapped diagnosis re-classified. 422 for an unknown target",
        tags,
        body: MappingBody,
        response: { 200: MappingResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:write');
      const result = await applyMapping(deps, user, req.body);
      ctx.processors.poke();
      return result;
    },
  );

  app.get(
    '/api/terminology/concept-maps',
    {
      schema: {
        summary: 'The ConceptMaps (one per facility, code system and target), paged with the total',
        tags,
        querystring: ConceptMapPageQuery,
        response: { 200: ConceptMapList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      const { total, maps } = await pageConceptMaps(ctx.db.pool, req.query.limit, req.query.offset);
      return { total, limit: req.query.limit, offset: req.query.offset, maps: maps.map(summary) };
    },
  );

  app.get(
    '/api/terminology/concept-maps/:id',
    { schema: { summary: 'One ConceptMap as stored (FHIR R4)', tags, params: ConceptMapParams } },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return conceptMapOrThrow(deps, req.params.id);
    },
  );

  app.post(
    '/api/terminology/concept-maps',
    {
      schema: {
        summary:
          'Stores a whole ConceptMap after the mapping rules: 422 naming the element when a source code is mapped twice, a target code is unknown or the target system is not supported (lab-test, SNOMED CT specimen, UCUM or ICD-10)',
        tags,
        body: ConceptMapBody,
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:write');
      const r = await storeConceptMap(deps, user, req.body as unknown as ConceptMap);
      ctx.processors.poke();
      return reply.code(201).send(r.resource);
    },
  );

  app.put(
    '/api/terminology/concept-maps/:id',
    {
      schema: {
        summary: 'Creates or updates a ConceptMap by id after the mapping rules (422 naming the element otherwise)',
        tags,
        params: ConceptMapParams,
        body: ConceptMapBody,
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:write');
      const r = await storeConceptMap(deps, user, req.body as unknown as ConceptMap, req.params.id);
      ctx.processors.poke();
      return reply.code(r.created ? 201 : 200).send(r.resource);
    },
  );
}
