/**
 * HL7 v2.5 ER7 messages as the district's hospital systems send them: ADT^A01/A03/A04 from the
 * HIS, ORU^R01 from the LIS, VXU^V04 from the immunization clinic. Segments end with \r; the
 * files put one message per line. MSH-18 is UNICODE UTF-8; MSH-17 CHN.
 * Field usage is documented in src/simulator/README.md ("HL7 v2 profile").
 */

/** Escapes the ER7 delimiters in a text value (HL7 v2.5 §2.7). */
export function esc(s: string): string {
  return s.replace(/[\\|^~&\r\n]/g, (c) =>
    c === '\\' ? '\\E\\' : c === '|' ? '\\F\\' : c === '^' ? '\\S\\' : c === '~' ? '\\R\\' : c === '&' ? '\\T\\' : ' ',
  );
}

const seg = (fields: (string | undefined)[]): string => {
  let last = fields.length;
  while (last > 1 && !fields[last - 1]) last--;
  return fields
    .slice(0, last)
    .map((f) => f ?? '')
    .join('|');
};

export interface Hl7Header {
  sendingApp: string;
  facilityCode: string;
  districtCode: string;
  time: string;
  type: string;
  controlId: string;
}

export function msh(h: Hl7Header): string {
  return `MSH|^~\\&|${h.sendingApp}|${h.facilityCode}|YIFANG|${h.districtCode}|${h.time}||${h.type}|${h.controlId}|P|2.5|||||CHN|UNICODE UTF-8`;
}

export interface Hl7Patient {
  mrn: string;
  facilityCode: string;
  idNumber: string | null;
  family: string;
  given: string;
  birthDate: string; // YYYY-MM-DD
  sex: 1 | 2;
  addressLine: string;
  community: string;
  city: string;
  province: string;
  district: string;
  postalCode: string;
  areaCode: string;
  phone: string | null;
}

export function pid(p: Hl7Patient): string {
  const ids = [`${esc(p.mrn)}^^^${p.facilityCode}^MR`];
  if (p.idNumber) ids.push(`${esc(p.idNumber)}^^^CHN&1.2.156.112606.1.2.1&ISO^NNCHN`);
  const fields: string[] = new Array(14).fill('');
  fields[0] = 'PID';
  fields[1] = '1';
  fields[3] = ids.join('~');
  fields[5] = `${esc(p.family)}^${esc(p.given)}^^^^^L`;
  fields[7] = p.birthDate.replace(/-/g, '');
  fields[8] = p.sex === 1 ? 'M' : 'F';
  fields[11] = `${esc(p.addressLine)}^${esc(p.community)}^${esc(p.city)}^${esc(p.province)}^${p.postalCode}^CHN^H^${esc(p.district)}^${p.areaCode}`;
  fields[13] = p.phone ? `^PRN^CP^^^^^^^^^${p.phone}` : '';
  return seg(fields);
}

export function nk1(name: string, relation: 'MTH' | 'FTH' | 'GRD', phone: string): string {
  const text = relation === 'MTH' ? '母亲' : relation === 'FTH' ? '父亲' : '监护人';
  return seg(['NK1', '1', `${esc(name)}^^^^^^L`, `${relation}^${text}^HL70063`, '', `^PRN^CP^^^^^^^^^${phone}`]);
}

export interface Hl7Visit {
  patientClass: 'O' | 'E' | 'I';
  deptCode: string;
  deptName: string;
  facilityCode: string;
  bed?: string;
  doctor: { id: string; family: string; given: string };
  visitNumber: string;
  admit: string;
  discharge: string | null;
}

export function pv1(v: Hl7Visit): string {
  const f: string[] = new Array(46).fill('');
  f[0] = 'PV1';
  f[1] = '1';
  f[2] = v.patientClass;
  f[3] = `${v.deptCode}^^${v.bed ?? ''}^${v.facilityCode}^^^^^${esc(v.deptName)}`;
  f[4] = v.patientClass === 'E' ? 'E' : v.patientClass === 'I' ? 'R' : '';
  f[7] = `${v.doctor.id}^${esc(v.doctor.family)}^${esc(v.doctor.given)}`;
  f[10] = v.deptCode;
  f[19] = v.visitNumber;
  f[44] = v.admit;
  f[45] = v.discharge ?? '';
  return seg(f);
}

export function pv2(complaint: string): string {
  return `PV2|||^${esc(complaint)}`;
}

export function obxTemperature(setId: number, value: number, time: string): string {
  return `OBX|${setId}|NM|8310-5^Body temperature^LN||${value.toFixed(1)}|Cel^^UCUM|||||F|||${time}`;
}

export function obxNumeric(
  setId: number,
  code: string,
  name: string,
  system: 'LN' | 'L',
  value: string,
  unit: string,
  time: string,
): string {
  return `OBX|${setId}|NM|${code}^${esc(name)}^${system}||${value}|${unit}^^UCUM|||||F|||${time}`;
}

export function dg1(setId: number, icd: string, display: string, time: string, working: boolean): string {
  return `DG1|${setId}||${icd}^${esc(display)}^I10||${time}|${working ? 'W' : 'F'}`;
}

export interface Hl7LabResult {
  code: string;
  name: string;
  loinc: string | null;
  positive: boolean;
}

export function oruBody(o: {
  placer: string;
  filler: string;
  panelCode: string;
  panelName: string;
  collect: string;
  ship: string;
  received: string;
  tested: string;
  reported: string;
  orderer: { id: string; family: string; given: string };
  specimenId: string;
  specimenType: string;
  specimenName: string;
  results: Hl7LabResult[];
}): string[] {
  const obr: string[] = new Array(26).fill('');
  obr[0] = 'OBR';
  obr[1] = '1';
  obr[2] = o.placer;
  obr[3] = o.filler;
  obr[4] = `${o.panelCode}^${esc(o.panelName)}^L`;
  obr[7] = o.collect;
  obr[14] = o.received;
  obr[16] = `${o.orderer.id}^${esc(o.orderer.family)}^${esc(o.orderer.given)}`;
  obr[22] = o.reported;
  obr[24] = 'MB';
  obr[25] = 'F';
  const lines = [`ORC|RE|${o.placer}|${o.filler}||CM`, seg(obr), `NTE|1||${esc('标本送检时间 ' + o.ship)}`];
  o.results.forEach((r, k) => {
    const id = r.loinc ? `${r.loinc}^${esc(r.name)}^LN^${r.code}^${esc(r.name)}^L` : `${r.code}^${esc(r.name)}^L`;
    const value = r.positive ? '260373001^Detected^SCT^^阳性' : '260415000^Not detected^SCT^^阴性';
    lines.push(`OBX|${k + 1}|CWE|${id}||${value}|||${r.positive ? 'A' : 'N'}|||F|||${o.collect}|||||${o.tested}`);
  });
  const spm: string[] = new Array(19).fill('');
  spm[0] = 'SPM';
  spm[1] = '1';
  spm[2] = o.specimenId;
  spm[4] = `${o.specimenType}^${esc(o.specimenName)}^HL70487`;
  spm[17] = o.collect;
  spm[18] = o.received;
  lines.push(seg(spm));
  return lines;
}

export function vxuBody(v: {
  orderId: string;
  time: string;
  vaccineCode: string;
  vaccineName: string;
  cvx?: string;
  doseMl: number;
  nurse: { id: string; family: string; given: string };
  facilityCode: string;
  lot: string;
  expiry: string;
  manufacturer: string;
  route: string;
  site: string;
  doseNumber: number;
}): string[] {
  const code = v.cvx ? `${v.vaccineCode}^${esc(v.vaccineName)}^L^${v.cvx}^^CVX` : `${v.vaccineCode}^${esc(v.vaccineName)}^L`;
  const rxa: string[] = new Array(22).fill('');
  rxa[0] = 'RXA';
  rxa[1] = '0';
  rxa[2] = '1';
  rxa[3] = v.time;
  rxa[4] = v.time;
  rxa[5] = code;
  rxa[6] = String(v.doseMl);
  rxa[7] = 'mL^mL^UCUM';
  rxa[9] = '00^New immunization record^NIP001';
  rxa[10] = `${v.nurse.id}^${esc(v.nurse.family)}^${esc(v.nurse.given)}`;
  rxa[11] = `^^^${v.facilityCode}`;
  rxa[15] = v.lot;
  rxa[16] = v.expiry;
  rxa[17] = `^${esc(v.manufacturer)}^L`;
  rxa[20] = 'CP';
  rxa[21] = 'A';
  const routeName = { IM: 'Intramuscular', ID: 'Intradermal', SC: 'Subcutaneous', PO: 'Oral' }[v.route] ?? v.route;
  return [
    `ORC|RE|${v.orderId}|${v.orderId}`,
    seg(rxa),
    `RXR|${v.route}^${routeName}^HL70162|^${esc(v.site)}^L`,
    `OBX|1|NM|30973-4^Dose number in series^LN|1|${v.doseNumber}||||||F|||${v.time}`,
  ];
}
