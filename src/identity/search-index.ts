/**
 * The resident search index (mpi_search, migration 123): one row per Patient with what people
 * are found by at a registration desk — the name as written, its toneless pinyin and pinyin
 * initials ('zsf' for 张三丰, computed with pinyin-pro, surnames read as surnames: 单 shan, 曾 zeng),
 * the ID number and the phone, each also reversed so the last digits are a prefix too. Kept
 * current by the change-log processor `identity-search` (module.ts); a new installation of the
 * processor starts at the beginning of the log, so an existing store is indexed on first start.
 */
import type { Patient } from '@medplum/fhirtypes';
import { pinyin } from 'pinyin-pro';
import type { Queryable } from '../platform/db.js';
import { isHanzi, toIdentityRecord } from './record.js';

export interface SearchRow {
  patientId: string;
  name: string;
  pinyin: string;
  initials: string;
  idNumber: string | null;
  phone: string | null;
  gender: string | null;
  birthDate: string | null;
  facility: string;
}

const reverse = (s: string | null) => (s ? [...s].reverse().join('') : null);

/** Toneless pinyin syllables of a hanzi name, surnames read as surnames. */
function syllables(name: string): string[] {
  return pinyin(name, { toneType: 'none', type: 'array', surname: 'head', nonZh: 'removed', v: true })
    .map((s) => s.toLowerCase().replace(/[^a-z]/g, ''))
    .filter(Boolean);
}

/** Pinyin and initials of a name as written: hanzi through pinyin-pro, Latin by its words. */
export function nameKeys(name: string): { pinyin: string; initials: string } {
  const text = name.trim();
  if (!text) return { pinyin: '', initials: '' };
  if (isHanzi(text.replace(/\s+/g, ''))) {
    const s = syllables(text.replace(/\s+/g, ''));
    return { pinyin: s.join(''), initials: s.map((x) => x[0]).join('') };
  }
  const words = text
    .toLowerCase()
    .split(/[\s·.,-]+/)
    .map((w) => w.replace(/[^a-z]/g, ''))
    .filter(Boolean);
  return { pinyin: words.join(''), initials: words.map((w) => w[0]).join('') };
}

/** The index row of a Patient (pure). */
export function searchRow(p: Patient): SearchRow {
  const r = toIdentityRecord(p);
  const official = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  const given = (official?.given ?? []).join(' ');
  const family = official?.family ?? '';
  const composed = isHanzi(`${family}${given}`) ? `${family}${given.replace(/\s+/g, '')}` : `${given} ${family}`;
  const written = (official?.text ?? composed).trim();
  const name = isHanzi(written.replace(/\s+/g, '')) ? written.replace(/\s+/g, '') : written.toLowerCase().replace(/\s+/g, ' ');
  const keys = nameKeys(written);
  return {
    patientId: p.id ?? '',
    name: name.slice(0, 100),
    pinyin: keys.pinyin.slice(0, 200),
    initials: keys.initials.slice(0, 50),
    idNumber: r.idRaw?.replace(/\s+/g, '').slice(0, 40) || null,
    phone: r.phone?.slice(0, 30) || null,
    gender: p.gender ?? null,
    birthDate: p.birthDate ?? null,
    facility: r.facility.slice(0, 200),
  };
}

/** Writes the rows of changed Patients and removes deleted ones, set at a time. */
export async function indexPatients(client: Queryable, alive: Patient[], deleted: string[]): Promise<void> {
  const rows = alive.filter((p) => p.id).map(searchRow);
  if (deleted.length) await client.query('DELETE FROM mpi_search WHERE patient_id = ANY($1::text[])', [deleted]);
  if (!rows.length) return;
  const col = <K extends keyof SearchRow>(k: K) => rows.map((r) => r[k]);
  await client.query(
    `INSERT INTO mpi_search (patient_id, name, pinyin, initials, id_number, id_rev, phone, phone_rev, gender, birth_date, facility)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
     ON CONFLICT (patient_id) DO UPDATE SET name = excluded.name, pinyin = excluded.pinyin, initials = excluded.initials,
       id_number = excluded.id_number, id_rev = excluded.id_rev, phone = excluded.phone, phone_rev = excluded.phone_rev,
       gender = excluded.gender, birth_date = excluded.birth_date, facility = excluded.facility, updated_at = now()`,
    [
      col('patientId'),
      col('name'),
      col('pinyin'),
      col('initials'),
      col('idNumber'),
      rows.map((r) => reverse(r.idNumber)),
      col('phone'),
      rows.map((r) => reverse(r.phone)),
      col('gender'),
      col('birthDate'),
      col('facility'),
    ],
  );
}
