import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadExportProfiles, parseExportProfiles, PROFILES_FILE, profileRefusal, type ExportProfile } from './profiles.js';

const shipped = () => JSON.parse(fs.readFileSync(PROFILES_FILE, 'utf8')) as { profiles: Record<string, Record<string, unknown>> };
const user = (...roles: string[]) => ({ username: 'u', roles: roles as never[] });

describe('export profiles', () => {
  it('loads the shipped file: research is a line list, public gives counts only', () => {
    const { profiles } = loadExportProfiles();
    const research = profiles.get('research')!;
    const pub = profiles.get('public')!;
    expect(research).toMatchObject({ kind: 'line-list', roles: ['epidemiologist', 'admin'], purposes: ['HRESCH'], requiresApproval: true });
    expect(pub).toMatchObject({ kind: 'counts', roles: ['epidemiologist', 'public-health', 'admin'], suppression: { threshold: 5 } });
    if (research.kind !== 'line-list') throw new Error('research is a line list');
    for (const f of ['pseudonym', 'sex', 'ageBand', 'street', 'occupationClass', 'disease', 'diagnosisStatus', 'outcome'])
      expect(research.fields).toContain(f);
  });

  it('refuses a direct identifier as a field, naming the key', () => {
    const f = shipped();
    (f.profiles.research!.fields as string[]).push('idNumber');
    expect(() => parseExportProfiles(f, 'p.json')).toThrow(/^p\.json: profiles\.research\.fields\.13: /);
  });

  it('refuses unknown keys, roles and purposes, naming them', () => {
    const extra = shipped();
    extra.profiles.research!.includeNames = true;
    expect(() => parseExportProfiles(extra, 'p.json')).toThrow(/p\.json: profiles\.research: .*'includeNames'/);
    const role = shipped();
    role.profiles.public!.roles = ['public-health', 'janitor'];
    expect(() => parseExportProfiles(role, 'p.json')).toThrow(/profiles\.public\.roles\.1: /);
    const purpose = shipped();
    purpose.profiles.research!.purposes = ['research'];
    expect(() => parseExportProfiles(purpose, 'p.json')).toThrow(/profiles\.research\.purposes\.0: a v3 ActReason code/);
    const kind = shipped();
    kind.profiles.public!.kind = 'microdata';
    expect(() => parseExportProfiles(kind, 'p.json')).toThrow(/profiles\.public\.kind: /);
  });

  it('says which rule refuses a request', () => {
    const { profiles } = loadExportProfiles();
    const research = profiles.get('research') as ExportProfile;
    const pub = profiles.get('public') as ExportProfile;
    const ok = { user: user('epidemiologist'), kind: 'line-list' as const, purpose: 'hresch', approval: 'IRB-2025-01' };
    expect(profileRefusal(research, ok)).toBeUndefined();
    expect(profileRefusal(research, { ...ok, user: user('public-health') })?.rule).toBe('export-profile-role');
    expect(profileRefusal(research, { ...ok, purpose: undefined })?.rule).toBe('export-profile-purpose');
    expect(profileRefusal(research, { ...ok, purpose: 'PUBHLTH' })?.message).toMatch(/needs the purpose of use HRESCH .*not PUBHLTH/);
    expect(profileRefusal(research, { ...ok, approval: ' ' })?.rule).toBe('export-profile-approval');
    expect(profileRefusal(pub, { ...ok, user: user('public-health') })?.rule).toBe('export-profile-kind');
    expect(profileRefusal(pub, { user: user('public-health'), kind: 'counts' })).toBeUndefined();
    expect(profileRefusal(pub, { user: user('clinician'), kind: 'counts' })?.message).toMatch(/rule export-profile-role/);
  });
});
