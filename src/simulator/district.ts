/**
 * The fictional district: streets/townships and communities with 12-digit statistical codes,
 * centroids and polygons; hospitals with departments and wards, the CDC, one community health
 * centre per street with service stations, schools, pharmacies and care homes; practitioners
 * and one family-doctor team per community. Layout: config/simulator/district.json.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configPath } from './config.js';
import type { NameBook, Sex } from './names.js';
import { Rng } from './rng.js';

const DistrictFile = z.object({
  fictional: z.literal(true),
  note: z.string(),
  province: z.object({ code: z.string().regex(/^\d{2}$/), name: z.string() }),
  city: z.object({ code: z.string().regex(/^\d{4}$/), name: z.string() }),
  district: z.object({ code: z.string().regex(/^\d{6}$/), name: z.string(), postalCode: z.string() }),
  formerCountyCode: z.string().regex(/^\d{6}$/),
  centre: z.tuple([z.number(), z.number()]),
  sizeKm: z.tuple([z.number().positive(), z.number().positive()]),
  streets: z.array(z.object({ name: z.string(), type: z.enum(['街道', '镇']) })).min(15),
  communityNames: z.array(z.string()).min(20),
  villageNames: z.array(z.string()).min(5),
  roadNames: z.array(z.string()).min(10),
  facilityNames: z.object({
    'general-hospital': z.string(),
    'tcm-hospital': z.string(),
    'mch-hospital': z.string(),
    cdc: z.string(),
  }),
  schoolNamePrefixes: z.array(z.string()).min(5),
  pharmacyNames: z.array(z.string()).min(3),
  careHomeNames: z.array(z.string()).min(1),
  idAddressCodes: z.object({
    source: z.string(),
    local: z.array(z.tuple([z.string().regex(/^\d{6}$/), z.number()])),
    elsewhere: z.array(z.tuple([z.string().regex(/^\d{6}$/), z.number()])),
    shareFromElsewhere: z.number().min(0).max(1),
  }),
});
export type DistrictConfig = z.infer<typeof DistrictFile>;

export function loadDistrictConfig(): DistrictConfig {
  return DistrictFile.parse(JSON.parse(readFileSync(configPath('district.json'), 'utf8')));
}

export type LonLat = [number, number];

export interface Area {
  index: number;
  level: 'street' | 'community';
  /** 街道 / 镇 for streets, 社区 / 村 for communities. */
  type: '街道' | '镇' | '社区' | '村';
  /** 12-digit statistical division code. */
  code: string;
  name: string;
  /** Index of the parent street (communities) or -1. */
  street: number;
  centroid: LonLat;
  /** Closed ring, counter-clockwise, [lon, lat]. */
  polygon: LonLat[];
  roads: string[];
  /** Relative size weight (communities). */
  weight: number;
}

export type FacilityKind =
  | 'general-hospital'
  | 'tcm-hospital'
  | 'mch-hospital'
  | 'cdc'
  | 'chc'
  | 'health-station'
  | 'kindergarten'
  | 'primary-school'
  | 'junior-school'
  | 'senior-school'
  | 'pharmacy'
  | 'care-home';

export const FACILITY_KIND_NAMES: Record<FacilityKind, string> = {
  'general-hospital': '综合医院',
  'tcm-hospital': '中医医院',
  'mch-hospital': '妇幼保健院',
  cdc: '疾病预防控制中心',
  chc: '社区卫生服务中心',
  'health-station': '社区卫生服务站',
  kindergarten: '幼儿园',
  'primary-school': '小学',
  'junior-school': '初级中学',
  'senior-school': '高级中学',
  pharmacy: '零售药店',
  'care-home': '养老机构',
};

export type DeptKind = 'clinic' | 'emergency' | 'ward' | 'lab' | 'vaccination' | 'public-health';

export interface Department {
  index: number;
  facility: number;
  /** FHIR Location id. */
  id: string;
  /** Code in DEPARTMENT_SYSTEM. */
  code: string;
  name: string;
  kind: DeptKind;
  /** 诊疗科目 code (医疗机构诊疗科目名录) where one applies. */
  subject: string | null;
  doctors: number[];
  nurses: number[];
}

export type Feed = 'fhir' | 'hl7v2' | 'csv' | 'none';

export interface Facility {
  index: number;
  /** FHIR Organization id. */
  id: string;
  /** Institution code (ORGANIZATION_CODE_SYSTEM); also the HL7 facility name. */
  code: string;
  name: string;
  kind: FacilityKind;
  street: number;
  community: number;
  address: string;
  lonLat: LonLat;
  /** How this facility's clinical data reaches the hub. */
  feed: Feed;
  /** Parent organisation (a station's CHC). */
  parent: number;
  departments: Department[];
  /** Multiplier for the facility's own MRNs (a bijection of person numbers). */
  mrnSalt: number;
  mrnPrefix: string;
}

export interface Practitioner {
  index: number;
  id: string;
  surname: number;
  given: number;
  sex: Sex;
  birthYear: number;
  role: 'doctor' | 'nurse' | 'public-health';
  facility: number;
  department: number;
  /** 医师/护士执业证书编码 (fictional, 15 digits). */
  licence: string;
}

export interface FamilyDoctorTeam {
  index: number;
  id: string;
  community: number;
  facility: number;
  name: string;
  members: number[];
}

/** Department templates per facility kind: [code, name, kind, 诊疗科目 code, doctors per 20k]. */
const DEPARTMENTS: Partial<Record<FacilityKind, [string, string, DeptKind, string | null, number][]>> = {
  'general-hospital': [
    ['fever-clinic', '发热门诊', 'emergency', null, 2],
    ['emergency', '急诊科', 'emergency', '20', 3],
    ['paediatrics', '儿科门诊', 'clinic', '07', 3],
    ['respiratory', '呼吸内科门诊', 'clinic', '03.01', 2],
    ['internal-medicine', '普通内科门诊', 'clinic', '03', 3],
    ['gastroenterology', '消化内科门诊', 'clinic', '03.02', 2],
    ['cardiology', '心血管内科门诊', 'clinic', '03.04', 2],
    ['endocrinology', '内分泌科门诊', 'clinic', '03.07', 1],
    ['neurology', '神经内科门诊', 'clinic', '03.03', 1],
    ['general-surgery', '普外科门诊', 'clinic', '04', 2],
    ['orthopaedics', '骨科门诊', 'clinic', '04', 2],
    ['gynaecology', '妇科门诊', 'clinic', '05.01', 1],
    ['dermatology', '皮肤科门诊', 'clinic', '13', 1],
    ['ophthalmology', '眼科门诊', 'clinic', '10', 1],
    ['ent', '耳鼻咽喉科门诊', 'clinic', '11', 1],
    ['enteric-clinic', '肠道门诊', 'clinic', '16', 1],
    ['infectious-disease', '感染科门诊', 'clinic', '16', 1],
    ['laboratory', '检验科', 'lab', '30', 1],
    ['ward-respiratory', '呼吸内科病区', 'ward', '03.01', 1],
    ['ward-paediatrics', '儿科病区', 'ward', '07', 1],
    ['ward-internal', '内科病区', 'ward', '03', 1],
    ['ward-infectious', '感染科病区', 'ward', '16', 1],
    ['ward-surgery', '外科病区', 'ward', '04', 1],
    ['icu', '重症医学科', 'ward', '28', 1],
  ],
  'tcm-hospital': [
    ['tcm-internal', '中医内科门诊', 'clinic', '50', 2],
    ['tcm-paediatrics', '中医儿科门诊', 'clinic', '50', 1],
    ['acupuncture', '针灸推拿科', 'clinic', '50', 1],
    ['orthopaedics', '中医骨伤科', 'clinic', '50', 1],
    ['fever-clinic', '发热门诊', 'emergency', null, 1],
    ['emergency', '急诊科', 'emergency', '20', 1],
    ['laboratory', '检验科', 'lab', '30', 1],
    ['ward-tcm', '中医内科病区', 'ward', '50', 1],
  ],
  'mch-hospital': [
    ['paediatrics', '儿科门诊', 'clinic', '07', 2],
    ['paediatric-fever', '儿科发热门诊', 'emergency', '07', 1],
    ['child-health', '儿童保健科', 'clinic', '09', 1],
    ['gynaecology', '妇科门诊', 'clinic', '05.01', 1],
    ['obstetrics', '产科门诊', 'clinic', '05.02', 1],
    ['ward-obstetrics', '产科病区', 'ward', '05.02', 1],
    ['neonatology', '新生儿科病区', 'ward', '07', 1],
    ['laboratory', '检验科', 'lab', '30', 1],
  ],
  cdc: [['cdc-laboratory', '微生物检验科', 'lab', null, 1]],
  chc: [
    ['general-practice', '全科门诊', 'clinic', '02', 2],
    ['chronic-disease', '慢病管理门诊', 'public-health', '01', 1],
    ['vaccination', '预防接种门诊', 'vaccination', '01', 1],
    ['child-health', '儿童保健科', 'clinic', '09', 1],
    ['tcm', '中医科', 'clinic', '50', 1],
  ],
  'health-station': [['general-practice', '全科诊室', 'clinic', '02', 0.5]],
};

export interface District {
  config: DistrictConfig;
  provinceName: string;
  cityName: string;
  districtName: string;
  districtCode: string;
  streets: Area[];
  communities: Area[];
  facilities: Facility[];
  practitioners: Practitioner[];
  teams: FamilyDoctorTeam[];
  /** Facility indices by kind. */
  byKind: Map<FacilityKind, number[]>;
  /** CHC index for each street. */
  chcOfStreet: number[];
  /** Health station for each community (or -1: served by the CHC itself). */
  stationOfCommunity: number[];
  teamOfCommunity: number[];
}

/** 8-15 streets: 8 for small districts, 15 from about a million residents. */
export function streetCount(population: number): number {
  const t = Math.log10(Math.max(1, population) / 20000) / Math.log10(50);
  return 8 + Math.round(7 * Math.min(1, Math.max(0, t)));
}

const KM_PER_DEG_LAT = 111.32;

function toLonLat(cfg: DistrictConfig, xKm: number, yKm: number): LonLat {
  const [lon0, lat0] = cfg.centre;
  const [w, h] = cfg.sizeKm;
  const lat = lat0 + (yKm - h / 2) / KM_PER_DEG_LAT;
  const lon = lon0 + (xKm - w / 2) / (KM_PER_DEG_LAT * Math.cos((lat0 * Math.PI) / 180));
  return [Math.round(lon * 1e6) / 1e6, Math.round(lat * 1e6) / 1e6];
}

interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Splits a rectangle into n cells in rows with jittered boundaries (they tile exactly). */
function splitRect(r: Rect, n: number, rng: Rng): Rect[] {
  const rows = Math.max(1, Math.round(Math.sqrt((n * (r.y1 - r.y0)) / (r.x1 - r.x0))));
  const out: Rect[] = [];
  const perRow: number[] = [];
  for (let i = 0; i < rows; i++) perRow.push(Math.floor(n / rows) + (i < n % rows ? 1 : 0));
  const ys = [r.y0];
  for (let i = 1; i < rows; i++) ys.push(r.y0 + ((r.y1 - r.y0) * (i + rng.uniform(-0.25, 0.25))) / rows);
  ys.push(r.y1);
  for (let i = 0; i < rows; i++) {
    const k = perRow[i]!;
    const xs = [r.x0];
    for (let j = 1; j < k; j++) xs.push(r.x0 + ((r.x1 - r.x0) * (j + rng.uniform(-0.25, 0.25))) / k);
    xs.push(r.x1);
    for (let j = 0; j < k; j++) out.push({ x0: xs[j]!, y0: ys[i]!, x1: xs[j + 1]!, y1: ys[i + 1]! });
  }
  return out;
}

function rectPolygon(cfg: DistrictConfig, r: Rect): { centroid: LonLat; polygon: LonLat[] } {
  const ring: LonLat[] = [toLonLat(cfg, r.x0, r.y0), toLonLat(cfg, r.x1, r.y0), toLonLat(cfg, r.x1, r.y1), toLonLat(cfg, r.x0, r.y1)];
  ring.push(ring[0]!);
  return { centroid: toLonLat(cfg, (r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2), polygon: ring };
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Builds the areas (streets and communities). Facilities come later, once people exist. */
export function buildAreas(cfg: DistrictConfig, population: number, seed: number): { streets: Area[]; communities: Area[] } {
  const rng = new Rng(seed, 'areas');
  const n = streetCount(population);
  // Streets (街道) first, then towns (镇), so that every size has some of both.
  const chosen = cfg.streets.slice(0, n);
  const cells = splitRect({ x0: 0, y0: 0, x1: cfg.sizeKm[0], y1: cfg.sizeKm[1] }, n, rng);
  const streets: Area[] = [];
  const communities: Area[] = [];
  let streetNo = 0;
  let townNo = 0;
  const communityNames = rng.shuffle([...cfg.communityNames]);
  const villageNames = rng.shuffle([...cfg.villageNames]);
  let cn = 0;
  let vn = 0;
  const perStreet = Math.min(40, Math.max(2, Math.round(population / n / 5000)));
  chosen.forEach((s, i) => {
    // Statistical division codes: township digits 001-099 街道, 100-199 镇.
    const town = s.type === '镇' ? 100 + ++townNo : ++streetNo;
    const code = `${cfg.district.code}${pad(town, 3)}000`;
    const geo = rectPolygon(cfg, cells[i]!);
    const street: Area = {
      index: i,
      level: 'street',
      type: s.type,
      code,
      name: s.name,
      street: -1,
      centroid: geo.centroid,
      polygon: geo.polygon,
      roads: [],
      weight: 1,
    };
    streets.push(street);
    const count = perStreet + rng.range(-1, 1) * (perStreet > 3 ? 1 : 0);
    const sub = splitRect(cells[i]!, count, rng);
    let resNo = 0;
    let vilNo = 0;
    for (let j = 0; j < count; j++) {
      const isVillage = s.type === '镇' && j > 0;
      // Village codes: 001-199 居民委员会 (社区), 200-399 村民委员会 (村).
      const local = isVillage ? 200 + ++vilNo : ++resNo;
      let name: string;
      if (isVillage) {
        name =
          villageNames[vn % villageNames.length]! +
          (vn >= villageNames.length ? String(Math.floor(vn / villageNames.length) + 1) : '') +
          '村';
        vn++;
      } else {
        name =
          communityNames[cn % communityNames.length]! +
          (cn >= communityNames.length ? String(Math.floor(cn / communityNames.length) + 1) : '') +
          '社区';
        cn++;
      }
      const g = rectPolygon(cfg, sub[j]!);
      const roads = [rng.pick(cfg.roadNames), rng.pick(cfg.roadNames)];
      if (roads[0] === roads[1]) roads.pop();
      communities.push({
        index: communities.length,
        level: 'community',
        type: isVillage ? '村' : '社区',
        code: `${cfg.district.code}${pad(town, 3)}${pad(local, 3)}`,
        name,
        street: i,
        centroid: g.centroid,
        polygon: g.polygon,
        roads,
        // Urban communities hold more people than villages; sizes vary (log-normal).
        weight: (isVillage ? 0.45 : 1) * rng.logNormal(1, 1.35),
      });
      street.roads.push(...roads);
    }
  });
  return { streets, communities };
}

/** Counts the facilities need: residents by street and children by school stage. */
export interface FacilityDemand {
  residentsByStreet: number[];
  kindergartenByStreet: number[];
  primaryByStreet: number[];
  juniorByStreet: number[];
  seniorByStreet: number[];
  careHomeResidents: number;
}

export function buildFacilities(
  cfg: DistrictConfig,
  areas: { streets: Area[]; communities: Area[] },
  demand: FacilityDemand,
  names: NameBook,
  seed: number,
): District {
  const rng = new Rng(seed, 'facilities');
  const { streets, communities } = areas;
  const dcode = cfg.district.code;
  const facilities: Facility[] = [];
  const practitioners: Practitioner[] = [];
  const counters = new Map<string, number>();
  const population = demand.residentsByStreet.reduce((a, b) => a + b, 0);
  const staffScale = Math.max(0.5, Math.sqrt(population / 20000));
  const communitiesOf = (s: number): Area[] => communities.filter((c) => c.street === s);

  const addressIn = (community: Area, no: number): string => `${streets[community.street]!.name}${community.roads[0]}${no}号`;

  const addPractitioner = (role: Practitioner['role'], facility: number, department: number): number => {
    const sex: Sex = role === 'nurse' ? (rng.chance(0.95) ? 2 : 1) : rng.chance(0.5) ? 1 : 2;
    const birthYear = 1960 + rng.int(38);
    const index = practitioners.length;
    practitioners.push({
      index,
      id: `prac-${pad(index + 1, 5)}`,
      surname: names.surnameAt(rng.float()),
      given: names.givenAt(sex, birthYear, rng.float(), rng.float()),
      sex,
      birthYear,
      role,
      facility,
      department,
      licence: `1${pad(rng.int(100000000), 8)}${dcode}`,
    });
    return index;
  };

  const addFacility = (kind: FacilityKind, name: string, street: number, community: Area, feed: Feed, parent = -1): Facility => {
    const tag = KIND_TAG[kind];
    const seq = (counters.get(tag) ?? 0) + 1;
    counters.set(tag, seq);
    const code = `${dcode}${tag}${pad(seq, 3)}`;
    const index = facilities.length;
    const f: Facility = {
      index,
      id: `org-${code}`,
      code,
      name,
      kind,
      street,
      community: community.index,
      address: addressIn(community, 1 + rng.int(300)),
      lonLat: jitter(community.centroid, rng),
      feed,
      parent,
      departments: [],
      // Odd multiplier not divisible by 5: person number × salt mod 10^8 is a bijection.
      mrnSalt: (rng.int(4999999) * 10 + [1, 3, 7, 9][rng.int(4)]!) % 100000000,
      mrnPrefix: MRN_PREFIX[kind] ?? '',
    };
    facilities.push(f);
    for (const [dcodeName, dname, dkind, subject, perScale] of DEPARTMENTS[kind] ?? []) {
      const dept: Department = {
        index: f.departments.length,
        facility: index,
        id: `loc-${code}-${dcodeName}`,
        code: dcodeName,
        name: dname,
        kind: dkind,
        subject,
        doctors: [],
        nurses: [],
      };
      f.departments.push(dept);
      const nd = Math.max(1, Math.round(perScale * staffScale));
      for (let k = 0; k < nd; k++) dept.doctors.push(addPractitioner('doctor', index, dept.index));
      if (dkind === 'vaccination' || dkind === 'ward' || dkind === 'emergency' || dkind === 'public-health') {
        for (let k = 0; k < Math.max(1, Math.round(nd / 2)); k++) dept.nurses.push(addPractitioner('nurse', index, dept.index));
      }
    }
    return f;
  };

  // Hospitals and the CDC sit in the first (most central) streets.
  const centre = communitiesOf(0)[0]!;
  addFacility('general-hospital', cfg.facilityNames['general-hospital'], 0, centre, 'hl7v2');
  addFacility('tcm-hospital', cfg.facilityNames['tcm-hospital'], 1, communitiesOf(1)[0]!, 'fhir');
  addFacility('mch-hospital', cfg.facilityNames['mch-hospital'], 2, communitiesOf(2)[0]!, 'hl7v2');
  addFacility('cdc', cfg.facilityNames.cdc, 0, communitiesOf(0)[communitiesOf(0).length > 1 ? 1 : 0]!, 'fhir');

  const chcOfStreet: number[] = [];
  const stationOfCommunity: number[] = new Array(communities.length).fill(-1);
  streets.forEach((s, i) => {
    const cs = communitiesOf(i);
    const chc = addFacility('chc', `${cfg.district.name}${s.name}社区卫生服务中心`, i, cs[0]!, 'fhir');
    chcOfStreet.push(chc.index);
    // One service station for every two further communities.
    for (let j = 1; j < cs.length; j += 2) {
      const st = addFacility('health-station', `${s.name}${cs[j]!.name}卫生服务站`, i, cs[j]!, 'fhir', chc.index);
      stationOfCommunity[cs[j]!.index] = st.index;
      if (cs[j + 1]) stationOfCommunity[cs[j + 1]!.index] = st.index;
    }
  });

  // Schools: enough of each kind for the children counted by street.
  const schoolKinds: [FacilityKind, number[], number, string][] = [
    ['kindergarten', demand.kindergartenByStreet, 260, '幼儿园'],
    ['primary-school', demand.primaryByStreet, 1300, '小学'],
    ['junior-school', demand.juniorByStreet, 1100, '中学'],
    ['senior-school', demand.seniorByStreet, 1600, '高级中学'],
  ];
  const prefixes = [...cfg.schoolNamePrefixes];
  for (const [kind, byStreet, size, suffix] of schoolKinds) {
    const total = byStreet.reduce((a, b) => a + b, 0);
    const count = Math.max(1, Math.round(total / size));
    const order = byStreet.map((c, i) => [i, c] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (let k = 0; k < count; k++) {
      const street = order[k % order.length]![0];
      const cs = communitiesOf(street);
      const prefix = prefixes[k % prefixes.length]! + (k >= prefixes.length ? String(Math.floor(k / prefixes.length) + 1) : '');
      const kindName = kind === 'junior-school' ? '初级中学' : suffix;
      addFacility(kind, `${cfg.district.name}${prefix}${kindName}`, street, cs[k % cs.length]!, 'csv');
    }
  }

  // Pharmacies: about one per 4,000 residents, at least one per street, placed by population.
  const nPharm = Math.max(streets.length, Math.round(population / 4000));
  const alloc = largestRemainder(demand.residentsByStreet, nPharm, 1);
  alloc.forEach((k, street) => {
    const cs = communitiesOf(street);
    for (let j = 0; j < k; j++) {
      const brand = cfg.pharmacyNames[rng.int(cfg.pharmacyNames.length)]!;
      const c = cs[j % cs.length]!;
      addFacility('pharmacy', `${brand}（${c.name.replace(/社区|村$/, '')}店）`, street, c, 'csv');
    }
  });

  // Care homes: about 150 places each.
  const nHomes = Math.max(1, Math.ceil(demand.careHomeResidents / 150));
  for (let k = 0; k < nHomes; k++) {
    const street = (k * 3 + 1) % streets.length;
    const cs = communitiesOf(street);
    const base = cfg.careHomeNames[k % cfg.careHomeNames.length]!;
    addFacility(
      'care-home',
      `${cfg.district.name}${base}${k >= cfg.careHomeNames.length ? String(Math.floor(k / cfg.careHomeNames.length) + 1) : ''}`,
      street,
      cs[cs.length - 1]!,
      'none',
    );
  }

  // Family-doctor teams: a GP, a nurse and a public-health doctor of the CHC, per community,
  // named as centres name them: 临江街道社区卫生服务中心 王医生团队 (the full name when the
  // centre has two leads of one surname).
  const teamNames = new Set<string>();
  const teamName = (centre: string, surname: string, given: string): string => {
    let name = `${centre} ${surname}医生团队`;
    if (teamNames.has(name)) name = `${centre} ${surname}${given}医生团队`;
    teamNames.add(name);
    return name;
  };
  const teams: FamilyDoctorTeam[] = communities.map((c, i) => {
    const chc = chcOfStreet[c.street]!;
    const gpDept = facilities[chc]!.departments.find((d) => d.code === 'general-practice')!.index;
    const phDept = facilities[chc]!.departments.find((d) => d.code === 'chronic-disease')!.index;
    const gp = addPractitioner('doctor', chc, gpDept);
    const nurse = addPractitioner('nurse', chc, gpDept);
    const ph = addPractitioner('public-health', chc, phDept);
    facilities[chc]!.departments[gpDept]!.doctors.push(gp);
    const lead = practitioners[gp]!;
    return {
      index: i,
      id: `team-${c.code}`,
      community: i,
      facility: chc,
      name: teamName(facilities[chc]!.name, names.surnames[lead.surname]!.hanzi, names.given[lead.given]!.hanzi),
      members: [gp, nurse, ph],
    };
  });

  const byKind = new Map<FacilityKind, number[]>();
  for (const f of facilities) {
    const list = byKind.get(f.kind) ?? [];
    list.push(f.index);
    byKind.set(f.kind, list);
  }
  return {
    config: cfg,
    provinceName: cfg.province.name,
    cityName: cfg.city.name,
    districtName: cfg.district.name,
    districtCode: dcode,
    streets,
    communities,
    facilities,
    practitioners,
    teams,
    byKind,
    chcOfStreet,
    stationOfCommunity,
    teamOfCommunity: teams.map((t) => t.index),
  };
}

const KIND_TAG: Record<FacilityKind, string> = {
  'general-hospital': 'GH',
  'tcm-hospital': 'TC',
  'mch-hospital': 'MC',
  cdc: 'CD',
  chc: 'SC',
  'health-station': 'ST',
  kindergarten: 'KG',
  'primary-school': 'PS',
  'junior-school': 'JS',
  'senior-school': 'HS',
  pharmacy: 'PH',
  'care-home': 'CH',
};

const MRN_PREFIX: Partial<Record<FacilityKind, string>> = {
  'general-hospital': 'ZY',
  'tcm-hospital': 'TCM',
  'mch-hospital': 'FY',
  chc: 'DA',
  'health-station': 'DA',
  cdc: 'JK',
};

function jitter(p: LonLat, rng: Rng): LonLat {
  return [Math.round((p[0] + rng.uniform(-0.004, 0.004)) * 1e6) / 1e6, Math.round((p[1] + rng.uniform(-0.003, 0.003)) * 1e6) / 1e6];
}

/** Splits `total` into integer parts proportional to weights, each at least `min`. */
export function largestRemainder(weights: number[], total: number, min = 0): number[] {
  const base = weights.map(() => min);
  let left = total - min * weights.length;
  if (left <= 0) return base;
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (w / sum) * left);
  const floors = exact.map(Math.floor);
  floors.forEach((f, i) => (base[i]! += f));
  left -= floors.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [i, e - Math.floor(e)] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (let k = 0; k < left; k++) base[order[k % order.length]![0]]! += 1;
  return base;
}
