/**
 * What each facility knows about a person. Community health centres, stations and the CDC share
 * the regional health record (the canonical Patient pat-NNNNNNN). Hospitals keep their own
 * records, and for some people those differ from the truth: look-alike or homophone characters,
 * traditional characters, a pinyin name, day and month swapped, no or a wrong ID number, an old
 * phone. truth.json lists, for every person with such a record, all records that are theirs.
 *
 * Nothing per record is kept: a facility's version of a person is a pure function of the seed,
 * the person and the facility, so it is rebuilt when needed. What must be remembered is small
 * and numeric: which (person, facility) pairs have a record of their own, of what kind, and in
 * which order they were made (for truth.json).
 */
import type { Facility } from './district.js';
import { patientJson, type PostalAddress } from './fhir.js';
import { OCCUPATIONS, occupationCode } from './population.js';
import { hash32, hashFloat, WeightedTable } from './rng.js';
import type { Sink } from './sink.js';
import type { IdentityRecord, PatientView, VariantKind, World } from './types.js';

/** Share of (person, hospital) pairs whose hospital record is a variant. */
export const VARIANT_RATE = 0.08;

const KINDS = new WeightedTable<VariantKind>([
  ['typo', 0.16],
  ['traditional', 0.12],
  ['homophone', 0.18],
  ['pinyin', 0.08],
  ['swapped-day-month', 0.08],
  ['missing-id', 0.16],
  ['wrong-id', 0.1],
  ['old-phone', 0.12],
]);

/** State of a (person, facility) record: a newborn's record at the birth hospital. */
const NEWBORN = -1;
/** State of a (person, facility) record: a variant kept only in the facility's own system (no FHIR Patient). */
const LOCAL_VARIANT = 0;
// A positive state k: a variant sent as FHIR Patient pat-NNNNNNN-vk.

export class Identities {
  /** (person, facility) key → NEWBORN, LOCAL_VARIANT or k; absent: the facility holds the canonical record. */
  private readonly state = new Map<number, number>();
  /** FHIR variant Patients made so far per person (numbering -v1, -v2, ...). */
  private readonly variantCount = new Map<number, number>();
  /** The non-canonical records in the order they were made: person and facility index. */
  private logPerson = new Int32Array(1024);
  private logFacility = new Int32Array(1024);
  private logLength = 0;

  constructor(
    private readonly w: World,
    private readonly sink: Sink,
  ) {}

  /** The community health centre that holds the person's health record. */
  homeChc(person: number): Facility {
    const d = this.w.district;
    const c = d.communities[this.w.pop.community[person]!]!;
    return d.facilities[d.chcOfStreet[c.street]!]!;
  }

  mrn(person: number, f: Facility): string {
    const n = (person + 1) * f.mrnSalt;
    return f.mrnPrefix + String(n % 100000000).padStart(8, '0');
  }

  address(person: number): PostalAddress {
    const { pop, district, cfg, seed } = this.w;
    const home = pop.careHome[person]!;
    const community = district.communities[pop.community[person]!]!;
    const street = district.streets[community.street]!;
    let line: string;
    if (home >= 0) {
      line = district.facilities[home]!.address.slice(street.name.length);
    } else {
      const h = pop.household[person]!;
      const a = hash32(seed, h, 1001);
      const b = hash32(seed, h, 1002);
      if (community.type === '村') {
        line = `${community.name.replace(/村$/, '')}${1 + (a % 12)}组${1 + (b % 90)}号`;
      } else {
        const road = community.roads[a % community.roads.length]!;
        const floor = 1 + (b % 18);
        line = `${road}${1 + ((a >>> 8) % 388)}号${1 + ((b >>> 8) % 30)}幢${1 + ((b >>> 16) % 4)}单元${floor}0${1 + ((a >>> 20) % 4)}室`;
      }
    }
    return {
      areaCode: community.code,
      province: cfg.province.name,
      city: cfg.city.name,
      district: cfg.district.name,
      street: street.name,
      community: community.name,
      line,
      postalCode: cfg.district.postalCode,
    };
  }

  private truthName(person: number): { text: string; family: string; given: string } {
    const { pop, names } = this.w;
    const family = names.surnames[pop.surname[person]!]!.hanzi;
    const given = names.given[pop.given[person]!]!.hanzi;
    return { text: family + given, family, given };
  }

  /** The canonical (true) record: the regional health record kept by the CHC. */
  canonical(person: number): PatientView {
    const pop = this.w.pop;
    const chc = this.homeChc(person);
    return {
      person,
      fhirId: pop.patientId(person),
      facility: chc,
      mrn: this.mrn(person, chc),
      name: this.truthName(person),
      sex: pop.sex[person] as 1 | 2,
      birthDate: pop.birthDate(person),
      idNumber: pop.idNumber(person),
      phone: pop.phone(person),
      address: this.address(person),
      variants: [],
    };
  }

  /**
   * The canonical Patient resource (emitted at the start or at birth registration, and again, with
   * the time of death, on the day a resident dies).
   */
  canonicalResource(person: number, deceasedDateTime?: string): string {
    const { pop, district } = this.w;
    const v = this.canonical(person);
    const g = pop.guardian[person]!;
    const age = pop.age(person, this.w.startDay);
    let guardian: Parameters<typeof patientJson>[0]['guardian'] = null;
    if (g >= 0 && age < 18) {
      const gn = this.truthName(g);
      guardian = { relation: pop.sex[g] === 2 ? 'MTH' : 'FTH', name: gn.text, phone: pop.phone(g) };
    }
    const h = pop.household[person]!;
    return patientJson({
      id: v.fhirId!,
      idNumber: v.idNumber,
      mrnSystemOrg: v.facility.id,
      mrn: v.mrn,
      name: v.name,
      sex: v.sex,
      birthDate: v.birthDate,
      phone: v.phone,
      phoneUse: g >= 0 && age < 18 ? 'home' : 'mobile',
      address: v.address,
      household:
        h >= 0 ? householdId(h) : pop.careHome[person]! >= 0 ? `carehome-${district.facilities[pop.careHome[person]!]!.code}` : null,
      occupation: { code: occupationCode(pop.occupation[person]!), display: OCCUPATIONS[pop.occupation[person]!]! },
      guardian,
      managingOrganization: v.facility.id,
      ...(deceasedDateTime ? { deceasedDateTime } : {}),
    });
  }

  /** What facility `f` has on file for the person (emitting a variant Patient on first use). */
  view(person: number, f: Facility): PatientView {
    if (f.kind === 'chc' || f.kind === 'health-station' || f.kind === 'cdc') return this.canonical(person);
    const key = person * 4096 + f.index;
    const known = this.state.get(key);
    if (known !== undefined) return this.rebuild(person, f, known);
    const seed = this.w.seed;
    if (hashFloat(seed, person, f.index, 31) >= VARIANT_RATE) {
      const c = this.canonical(person);
      if (f.feed === 'fhir') return c;
      return { ...c, fhirId: null, facility: f, mrn: this.mrn(person, f) };
    }
    let k = LOCAL_VARIANT;
    if (f.feed === 'fhir') {
      k = (this.variantCount.get(person) ?? 0) + 1;
      this.variantCount.set(person, k);
    }
    const v = this.variant(person, f, k);
    if (v.fhirId) {
      this.sink.fhir(
        'Patient',
        v.fhirId,
        patientJson({
          id: v.fhirId,
          idNumber: v.idNumber,
          mrnSystemOrg: f.id,
          mrn: v.mrn,
          name: v.name,
          sex: v.sex,
          birthDate: v.birthDate,
          phone: v.phone,
          address: v.address,
          household: null,
          occupation: null,
          guardian: null,
          managingOrganization: f.id,
        }),
      );
    }
    this.remember(person, f, key, k);
    return v;
  }

  /** A newborn's record at the birth hospital: "mother's name + 之子/之女", no ID number yet. */
  newbornView(person: number, f: Facility): PatientView {
    const key = person * 4096 + f.index;
    const known = this.state.get(key);
    if (known !== undefined) return this.rebuild(person, f, known);
    this.remember(person, f, key, NEWBORN);
    return this.newborn(person, f);
  }

  private rebuild(person: number, f: Facility, state: number): PatientView {
    return state === NEWBORN ? this.newborn(person, f) : this.variant(person, f, state);
  }

  private newborn(person: number, f: Facility): PatientView {
    const pop = this.w.pop;
    const base = this.canonical(person);
    const mother = pop.guardian[person]!;
    const mn = mother >= 0 ? this.truthName(mother).text : base.name.family;
    const text = `${mn}${pop.sex[person] === 1 ? '之子' : '之女'}`;
    return {
      ...base,
      fhirId: null,
      facility: f,
      mrn: this.mrn(person, f),
      name: { text, family: text.slice(0, 1), given: text.slice(1) },
      idNumber: null,
      phone: mother >= 0 ? pop.phone(mother) : null,
      variants: ['newborn-name', 'missing-id'],
    };
  }

  private pickKinds(person: number, f: Facility): VariantKind[] {
    const seed = this.w.seed;
    const first = KINDS.at(hashFloat(seed, person, f.index, 32));
    const kinds: VariantKind[] = [first];
    if (hashFloat(seed, person, f.index, 33) < 0.3) {
      const second = KINDS.at(hashFloat(seed, person, f.index, 34));
      if (second !== first) kinds.push(second);
    }
    return kinds;
  }

  /** The facility's variant record of a person; k > 0 names its FHIR Patient (-vk). Pure. */
  private variant(person: number, f: Facility, k: number): PatientView {
    const { pop, names, seed } = this.w;
    const wanted = this.pickKinds(person, f);
    const base = this.canonical(person);
    const v: PatientView = { ...base, fhirId: null, facility: f, mrn: this.mrn(person, f), variants: [] };
    const u = hashFloat(seed, person, f.index, 35);
    const surnameLen = names.surnames[pop.surname[person]!]!.hanzi.length;
    const setName = (text: string): void => {
      v.name = { text, family: text.slice(0, surnameLen), given: text.slice(surnameLen) };
    };
    for (const kind of wanted) {
      let applied = true;
      switch (kind) {
        case 'typo': {
          const t = names.lookalike(v.name.text, u);
          if (t) setName(t);
          else applied = false;
          break;
        }
        case 'traditional': {
          const t = names.toTraditional(v.name.text);
          if (t) setName(t);
          else applied = false;
          break;
        }
        case 'homophone': {
          const t = names.homophone(v.name.text, u);
          if (t) setName(t);
          else applied = false;
          break;
        }
        case 'pinyin': {
          const p = names.pinyinName(pop.surname[person]!, pop.given[person]!);
          v.name = { text: `${p.family} ${p.given}`, family: p.family, given: p.given };
          break;
        }
        case 'swapped-day-month': {
          const [y, m, d] = v.birthDate.split('-');
          if (Number(d) <= 12 && d !== m) v.birthDate = `${y}-${d}-${m}`;
          else applied = false;
          break;
        }
        case 'missing-id':
          v.idNumber = null;
          break;
        case 'wrong-id': {
          const id = v.idNumber;
          if (!id) {
            applied = false;
            break;
          }
          // Two adjacent digits swapped in the birth date or sequence part (a keying slip).
          let pos = 6 + (hash32(seed, person, f.index) % 10);
          while (pos < 16 && id[pos] === id[pos + 1]) pos++;
          if (pos < 16) v.idNumber = id.slice(0, pos) + id[pos + 1] + id[pos] + id.slice(pos + 2);
          else v.idNumber = id.slice(0, 17) + (id[17] === '1' ? '2' : '1');
          break;
        }
        case 'old-phone':
          v.phone = pop.phone(person, true);
          break;
        default:
          applied = false;
      }
      if (applied) v.variants.push(kind);
    }
    if (v.variants.length === 0) {
      v.idNumber = null;
      v.variants.push('missing-id');
    }
    if (k > 0) v.fhirId = `${pop.patientId(person)}-v${k}`;
    return v;
  }

  private remember(person: number, f: Facility, key: number, state: number): void {
    this.state.set(key, state);
    if (this.logLength === this.logPerson.length) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.logPerson = grow(this.logPerson);
      this.logFacility = grow(this.logFacility);
    }
    this.logPerson[this.logLength] = person;
    this.logFacility[this.logLength] = f.index;
    this.logLength++;
  }

  /**
   * For truth.json: every person with a non-canonical record, in the order of their first such
   * record, with all their records (the canonical one first, then the others as they were made).
   * Records are rebuilt one person at a time.
   */
  *truth(): Generator<{ personId: string; records: IdentityRecord[] }> {
    const n = this.logLength;
    const persons = this.logPerson;
    // Group the log by person, people in order of first appearance, records in log order.
    const group = new Map<number, number>();
    const groupOf = new Int32Array(n);
    const sizes: number[] = [];
    for (let i = 0; i < n; i++) {
      let g = group.get(persons[i]!);
      if (g === undefined) {
        g = sizes.length;
        group.set(persons[i]!, g);
        sizes.push(0);
      }
      groupOf[i] = g;
      sizes[g]!++;
    }
    group.clear();
    const start = new Int32Array(sizes.length + 1);
    for (let g = 0; g < sizes.length; g++) start[g + 1] = start[g]! + sizes[g]!;
    const fill = start.slice(0, sizes.length);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[fill[groupOf[i]!]!++] = i;
    const facilities = this.w.district.facilities;
    for (let g = 0; g < sizes.length; g++) {
      const person = persons[order[start[g]!]!]!;
      const records: IdentityRecord[] = [
        { source: 'fhir', facility: this.homeChc(person).id, id: this.w.pop.patientId(person), variants: [] },
      ];
      for (let j = start[g]!; j < start[g + 1]!; j++) {
        const f = facilities[this.logFacility[order[j]!]!]!;
        const state = this.state.get(person * 4096 + f.index)!;
        if (state === NEWBORN) {
          records.push({
            source: f.feed === 'hl7v2' ? 'hl7v2' : 'fhir',
            facility: f.id,
            id: this.mrn(person, f),
            variants: ['newborn-name', 'missing-id'],
          });
        } else {
          const v = this.variant(person, f, state);
          records.push({ source: f.feed === 'fhir' ? 'fhir' : 'hl7v2', facility: f.id, id: v.fhirId ?? v.mrn, variants: v.variants });
        }
      }
      yield { personId: this.w.pop.patientId(person), records };
    }
  }
}

export const householdId = (h: number): string => 'hh-' + String(h + 1).padStart(7, '0');
