/**
 * Export profiles (config/exports/profiles.json): what each kind of release holds and who may
 * ask for it. A profile is data, validated at start; a file with an unknown key, an unknown role
 * or a field that is not on the de-identified list refuses to load, naming the key.
 *
 * There is no field for a name, ID number, phone, address line or exact birth date: a profile
 * can only choose among `LINE_LIST_FIELDS`, so no configuration can put them in a release.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ROLES, type AuthUser, type Role } from '../platform/auth.js';
import { LINE_LIST_FIELDS } from './schemas.js';

export { LINE_LIST_FIELDS, type LineListField } from './schemas.js';

const roleSchema = z.enum(ROLES as [Role, ...Role[]]);
const purposeCode = z.string().regex(/^[A-Z]{2,20}$/, 'a v3 ActReason code in capitals, e.g. HRESCH');

const common = {
  description: z.string().min(1),
  /** Roles allowed to use the profile (on top of the permission export:deidentified). */
  roles: z.array(roleSchema).min(1),
  /** Purposes of use the request must state (X-Purpose-Of-Use or ?purpose=); empty: none required. */
  purposes: z.array(purposeCode).default([]),
  /** Recorded when the request states none (profiles without required purposes). */
  defaultPurpose: purposeCode.optional(),
  /** The request must name the approval it is made under (?approval=, e.g. an ethics committee reference). */
  requiresApproval: z.boolean().default(false),
  /** Longest period (from … to, in days) one export may cover. */
  maxDays: z.number().int().min(1).max(3660),
};

const lineListProfile = z
  .object({
    kind: z.literal('line-list'),
    ...common,
    fields: z.array(z.enum(LINE_LIST_FIELDS)).min(1),
    pseudonym: z
      .object({
        prefix: z.string().regex(/^[A-Za-z0-9_-]{0,8}$/, 'up to 8 letters, digits, _ or -'),
        /** Hex digits shown: 8–24. */
        length: z.number().int().min(8).max(24),
        /**
         * 'approval': the key is scoped by the approval reference (two studies cannot join their
         * releases on the pseudonym); 'profile': one pseudonym per resident for every release.
         */
        scope: z.enum(['approval', 'profile']),
      })
      .strict(),
    /** Every date of a person moves by the same number of days in [−n, n], never 0. */
    dateShiftDays: z.number().int().min(1).max(365),
    ageBand: z.object({ width: z.number().int().min(1).max(20), top: z.number().int().min(1).max(120) }).strict(),
    /** At most this many rows in one export; more is refused (narrow the period or the disease). */
    maxRows: z.number().int().min(1).max(50_000),
  })
  .strict();

const countsProfile = z
  .object({
    kind: z.literal('counts'),
    ...common,
    suppression: z
      .object({
        /** Counts from 1 to threshold − 1 are suppressed. */
        threshold: z.number().int().min(2).max(100),
        /** What every suppressed value shows (primary and complementary alike, so they cannot be told apart). */
        mark: z.string().min(1).max(8),
      })
      .strict(),
    /** Publish each street's total over the whole period (see profiles.json on why the shipped profile does not). */
    streetTotals: z.boolean(),
    /** Publish each week's district total. */
    weekTotals: z.boolean(),
    /** Report cards one export may read, and cells it may answer. */
    maxCards: z.number().int().min(1).max(1_000_000),
    maxCells: z.number().int().min(1).max(1_000_000),
  })
  .strict();

const profileSchema = z.discriminatedUnion('kind', [lineListProfile, countsProfile]);
const fileSchema = z
  .object({
    $comment: z.string().optional(),
    version: z.string().min(1),
    profiles: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'profile names: lower-case letters, digits and -'), profileSchema),
  })
  .strict();

export type LineListProfile = z.infer<typeof lineListProfile> & { name: string };
export type CountsProfile = z.infer<typeof countsProfile> & { name: string };
export type ExportProfile = LineListProfile | CountsProfile;

export interface ExportProfiles {
  version: string;
  profiles: ReadonlyMap<string, ExportProfile>;
}

/** Validates a profiles file; throws naming the file and the key at fault. */
export function parseExportProfiles(json: unknown, source = 'profiles.json'): ExportProfiles {
  const r = fileSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const key = i.path.join('.') || '(file)';
    const extra = i.code === z.ZodIssueCode.unrecognized_keys ? ` ('${i.keys.join("', '")}')` : '';
    throw new Error(`${source}: ${key}: ${i.message}${extra}`);
  }
  const profiles = new Map<string, ExportProfile>();
  for (const [name, p] of Object.entries(r.data.profiles)) {
    if (p.purposes.length && p.defaultPurpose && !p.purposes.includes(p.defaultPurpose))
      throw new Error(`${source}: profiles.${name}.defaultPurpose: '${p.defaultPurpose}' is not one of its purposes`);
    if (p.kind === 'line-list' && new Set(p.fields).size !== p.fields.length)
      throw new Error(`${source}: profiles.${name}.fields: a field is listed twice`);
    if (p.kind === 'line-list' && p.pseudonym.scope === 'approval' && !p.requiresApproval)
      throw new Error(`${source}: profiles.${name}.pseudonym.scope: 'approval' needs requiresApproval: true (the key is scoped by it)`);
    profiles.set(name, { ...p, name });
  }
  if (!profiles.size) throw new Error(`${source}: profiles: at least one profile`);
  return { version: r.data.version, profiles };
}

export const PROFILES_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/exports/profiles.json');

/** Reads and validates the profiles file (default config/exports/profiles.json). */
export function loadExportProfiles(file = PROFILES_FILE): ExportProfiles {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseExportProfiles(json, file);
}

// ---------------------------------------------------------------------------------------------
// The policy: may this user, stating this purpose and approval, use this profile for this kind?

export interface ExportRequestFacts {
  user: Pick<AuthUser, 'roles' | 'username'>;
  kind: ExportProfile['kind'];
  purpose?: string;
  approval?: string;
}

export interface PolicyRefusal {
  rule: 'export-profile-kind' | 'export-profile-role' | 'export-profile-purpose' | 'export-profile-approval';
  message: string;
}

const KIND_WORDS: Record<ExportProfile['kind'], string> = { 'line-list': 'a line list', counts: 'aggregate counts' };

/** Why the request does not fit the profile (the rule and a sentence naming it), or undefined when it does. */
export function profileRefusal(profile: ExportProfile, facts: ExportRequestFacts): PolicyRefusal | undefined {
  const say = (rule: PolicyRefusal['rule'], text: string): PolicyRefusal => ({
    rule,
    message: `${text} (rule ${rule}, de-identified exports, issue #15)`,
  });
  if (profile.kind !== facts.kind)
    return say(
      'export-profile-kind',
      `Export profile '${profile.name}' releases ${KIND_WORDS[profile.kind]} only, not ${KIND_WORDS[facts.kind]}`,
    );
  if (!facts.user.roles.some((r) => profile.roles.includes(r)))
    return say(
      'export-profile-role',
      `Export profile '${profile.name}' is for the roles ${profile.roles.join(', ')}; ${facts.user.username} has ${facts.user.roles.join(', ') || 'none'}`,
    );
  const purpose = facts.purpose?.trim().toUpperCase();
  if (profile.purposes.length && (!purpose || !profile.purposes.includes(purpose)))
    return say(
      'export-profile-purpose',
      `Export profile '${profile.name}' needs the purpose of use ${profile.purposes.join(' or ')} (X-Purpose-Of-Use header or ?purpose=)${purpose ? `, not ${purpose}` : ''}`,
    );
  if (profile.requiresApproval && !facts.approval?.trim())
    return say(
      'export-profile-approval',
      `Export profile '${profile.name}' needs the reference of the approval it is made under (?approval=, e.g. the ethics committee's number)`,
    );
  return undefined;
}
