/**
 * The six hospital CSV templates (医院 CSV 上报模板), pure data and pure functions: each column's
 * key, its Chinese header, English and common HIS aliases, whether it is required, and its kind;
 * matching a file's header to a template (with a facility's saved mapping or the names and
 * aliases); the downloadable template file (UTF-8 with a BOM, so Excel opens it as UTF-8).
 */

export const TEMPLATES = ['patients', 'visits', 'diagnoses', 'lab-results', 'prescriptions', 'immunizations'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

export type ColumnKind = 'text' | 'date' | 'datetime' | 'number' | 'id-number' | 'phone' | 'gender' | 'visit-type';

export interface TemplateColumn {
  /** Stable key (English, snake case); also the first English alias. */
  key: string;
  /** The Chinese header written in the template file. */
  zh: string;
  /** Other header names meaning the same (case and spaces ignored). */
  aliases: readonly string[];
  required: boolean;
  kind: ColumnKind;
  /** Words for the screen and the template's second line. */
  hint: string;
}

export interface Template {
  name: TemplateName;
  zh: string;
  en: string;
  /** The FHIR resources a row becomes. */
  resources: readonly string[];
  columns: readonly TemplateColumn[];
}

const col = (key: string, zh: string, kind: ColumnKind, required: boolean, hint: string, aliases: string[] = []): TemplateColumn => ({
  key,
  zh,
  kind,
  required,
  hint,
  aliases,
});

/** The columns naming the patient: every template has them; a row needs 患者编号 or 身份证号. */
const PATIENT_KEYS = [
  col('patient_no', '患者编号', 'text', false, '本机构病历号/患者ID (MRN)', ['病历号', '患者ID', '病人ID', 'mrn', 'patient_id']),
  col('id_number', '身份证号', 'id-number', false, '公民身份号码，18位', ['公民身份号码', '身份证号码', '证件号码', 'id_no', 'idcard']),
  col('name', '姓名', 'text', false, '患者姓名', ['患者姓名', '病人姓名', 'patient_name']),
];

const PATIENT_DEMOGRAPHICS = [
  col('gender', '性别', 'gender', false, '男/女/未知 或 1/2/0/9', ['sex']),
  col('birth_date', '出生日期', 'date', false, 'YYYY-MM-DD', ['出生年月日', 'dob', 'birthday']),
];

const VISIT_REF = col('visit_no', '门诊号', 'text', false, '就诊流水号/门诊号/住院号', ['就诊号', '就诊流水号', '住院号', 'visit_id']);

export const TEMPLATE_DEFS: Record<TemplateName, Template> = {
  patients: {
    name: 'patients',
    zh: '患者',
    en: 'Patients',
    resources: ['Patient'],
    columns: [
      ...PATIENT_KEYS.map((c) => (c.key === 'name' ? { ...c, required: true } : c)),
      ...PATIENT_DEMOGRAPHICS,
      col('phone', '联系电话', 'phone', false, '手机11位或固话', ['电话', '手机号', '手机', 'tel', 'mobile']),
      col('address', '住址', 'text', false, '现住址', ['现住址', '家庭住址', '地址']),
    ],
  },
  visits: {
    name: 'visits',
    zh: '就诊',
    en: 'Visits',
    resources: ['Encounter', 'Patient'],
    columns: [
      ...PATIENT_KEYS,
      ...PATIENT_DEMOGRAPHICS,
      { ...VISIT_REF, required: true },
      col('visit_date', '就诊日期', 'datetime', true, 'YYYY-MM-DD 或 YYYY-MM-DD HH:mm', ['就诊时间', '挂号时间', 'admit_date']),
      col('visit_type', '就诊类型', 'visit-type', false, '门诊/急诊/住院', ['类型', 'visit_class']),
      col('department', '科室', 'text', false, '就诊科室', ['就诊科室', 'dept']),
      col('discharge_date', '出院日期', 'datetime', false, '住院病人出院时间', ['离院时间']),
    ],
  },
  diagnoses: {
    name: 'diagnoses',
    zh: '诊断',
    en: 'Diagnoses',
    resources: ['Condition', 'Patient', 'Encounter'],
    columns: [
      ...PATIENT_KEYS,
      ...PATIENT_DEMOGRAPHICS,
      VISIT_REF,
      col('diagnosis_code', '诊断编码', 'text', true, 'ICD-10 编码，如 J10.1', ['ICD10', 'ICD编码', 'icd10', 'icd_code']),
      col('diagnosis_name', '诊断名称', 'text', false, '诊断名称', ['诊断', 'diagnosis']),
      col('diagnosis_date', '诊断日期', 'datetime', true, 'YYYY-MM-DD', ['诊断时间']),
      col('diagnosis_status', '诊断类别', 'text', false, '疑似/初步/确诊', ['诊断状态']),
    ],
  },
  'lab-results': {
    name: 'lab-results',
    zh: '检验结果',
    en: 'Lab results',
    resources: ['Observation', 'Specimen', 'Patient', 'Encounter'],
    columns: [
      ...PATIENT_KEYS,
      ...PATIENT_DEMOGRAPHICS,
      VISIT_REF,
      col('report_no', '检验单号', 'text', false, '检验申请/报告单号', ['报告单号', '条码号', 'accession_no']),
      col('test_code', '检验项目编码', 'text', true, '本机构 LIS 项目编码', ['项目编码', 'item_code']),
      col('test_name', '检验项目名称', 'text', false, '项目名称，如 甲型流感病毒核酸', ['项目名称', 'item_name']),
      col('result', '结果', 'text', true, '数值或文字（阳性/阴性）', ['检验结果', 'value']),
      col('unit', '单位', 'text', false, '如 mmol/L', ['units']),
      col('reference_range', '参考范围', 'text', false, '如 3.9-6.1', ['参考值', 'ref_range']),
      col('abnormal_flag', '异常标识', 'text', false, 'H/L/阳性…', ['结果标志', 'flag']),
      col('specimen_type', '标本类型', 'text', false, '如 咽拭子、血清', ['标本', 'specimen']),
      col('collected_at', '采样时间', 'datetime', false, 'YYYY-MM-DD HH:mm', ['采集时间', 'collected_time']),
      col('reported_at', '报告时间', 'datetime', true, 'YYYY-MM-DD HH:mm', ['报告日期', 'report_time']),
    ],
  },
  prescriptions: {
    name: 'prescriptions',
    zh: '处方',
    en: 'Prescriptions',
    resources: ['MedicationRequest', 'Patient', 'Encounter'],
    columns: [
      ...PATIENT_KEYS,
      ...PATIENT_DEMOGRAPHICS,
      VISIT_REF,
      col('prescription_no', '处方号', 'text', false, '处方编号', ['处方编号', 'rx_no']),
      col('drug_code', '药品编码', 'text', true, '本机构药品编码或医保编码', ['药品代码', 'drug_id']),
      col('drug_name', '药品名称', 'text', true, '通用名', ['药名', 'drug']),
      col('dose', '剂量', 'text', false, '每次用量，如 0.5g', ['每次用量', 'dosage']),
      col('frequency', '频次', 'text', false, '如 tid、每日三次', ['用药频次', 'freq']),
      col('days', '天数', 'number', false, '用药天数', ['用药天数', 'duration_days']),
      col('prescribed_at', '开方日期', 'datetime', true, 'YYYY-MM-DD', ['处方日期', 'prescribed_date']),
    ],
  },
  immunizations: {
    name: 'immunizations',
    zh: '预防接种',
    en: 'Immunizations',
    resources: ['Immunization', 'Patient'],
    columns: [
      ...PATIENT_KEYS,
      ...PATIENT_DEMOGRAPHICS,
      col('vaccine_code', '疫苗编码', 'text', true, '疫苗编码，如 HepB', ['疫苗代码', 'vaccine']),
      col('vaccine_name', '疫苗名称', 'text', false, '如 乙肝疫苗', ['疫苗']),
      col('lot_number', '批号', 'text', false, '疫苗批号', ['疫苗批号', 'lot']),
      col('vaccination_date', '接种日期', 'datetime', true, 'YYYY-MM-DD', ['接种时间', 'administered_date']),
      col('dose_number', '剂次', 'number', false, '第几剂', ['针次', 'dose']),
      col('manufacturer', '生产企业', 'text', false, '疫苗生产企业', ['生产厂家', '厂家']),
    ],
  },
};

export function isTemplate(name: string): name is TemplateName {
  return (TEMPLATES as readonly string[]).includes(name);
}

/** Header cells compared without case, spaces, '*' marks or a BOM. */
export function normalizeHeader(h: string): string {
  return h
    .replace(/^\uFEFF/, '')
    .replace(/[\s*＊_\-（）()]/g, '')
    .toLowerCase();
}

/** A facility's mapping: template column key → the facility's own header name. */
export type ColumnMapping = Record<string, string>;

export type HeaderMatch =
  | { ok: true; /** template column key → index in the file's header */ index: Record<string, number> }
  | { ok: false; column: string; message: string };

/**
 * Which file column holds each template column. With a mapping, every mapped name must be in
 * the header (refused naming it otherwise); unmapped columns fall back to their names and
 * aliases. Required columns must be found, and a patient column (患者编号 or 身份证号) too.
 */
export function matchHeader(template: TemplateName, header: readonly string[], mapping: ColumnMapping = {}): HeaderMatch {
  const def = TEMPLATE_DEFS[template];
  const at = new Map<string, number>();
  header.forEach((h, i) => {
    const n = normalizeHeader(h);
    if (n && !at.has(n)) at.set(n, i);
  });
  const index: Record<string, number> = {};
  for (const c of def.columns) {
    const mapped = mapping[c.key];
    if (mapped !== undefined && mapped.trim() !== '') {
      const i = at.get(normalizeHeader(mapped));
      if (i === undefined)
        return {
          ok: false,
          column: mapped,
          message: `映射的列"${mapped}"（${c.zh}/${c.key}）不在文件表头中 / the mapping names column '${mapped}' for ${c.key}, which is not in the file's header (${header.join(',')})`,
        };
      index[c.key] = i;
      continue;
    }
    for (const name of [c.zh, c.key, ...c.aliases]) {
      const i = at.get(normalizeHeader(name));
      if (i !== undefined) {
        index[c.key] = i;
        break;
      }
    }
  }
  for (const c of def.columns)
    if (c.required && index[c.key] === undefined)
      return {
        ok: false,
        column: c.zh,
        message: `缺少必填列"${c.zh}"（${c.key}） / required column ${c.zh} (${c.key}) is not in the file's header; name it in the column mapping if the file calls it otherwise`,
      };
  if (index.patient_no === undefined && index.id_number === undefined)
    return {
      ok: false,
      column: '身份证号',
      message:
        '缺少患者标识列：需要"患者编号"或"身份证号" / the header has no patient column: 患者编号 (patient_no) or 身份证号 (id_number)',
    };
  return { ok: true, index };
}

/** Problems with a mapping before it is saved: unknown template column keys, one file column twice. */
export function mappingProblems(template: TemplateName, mapping: ColumnMapping): string[] {
  const keys = new Set(TEMPLATE_DEFS[template].columns.map((c) => c.key));
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [k, v] of Object.entries(mapping)) {
    if (!keys.has(k)) problems.push(`模板"${template}"没有列 ${k} / template ${template} has no column '${k}'`);
    const n = normalizeHeader(v);
    if (!n) continue;
    const before = seen.get(n);
    if (before) problems.push(`文件列"${v}"被映射了两次（${before}、${k}） / file column '${v}' is mapped twice (${before}, ${k})`);
    seen.set(n, k);
  }
  return problems;
}

const csvCell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The template file: UTF-8 with a BOM, the Chinese header (required ones marked in line 2's hints is not CSV-safe, so only the header and one example row). */
export function templateCsv(template: TemplateName): string {
  const def = TEMPLATE_DEFS[template];
  const header = def.columns.map((c) => csvCell(c.zh)).join(',');
  const example = def.columns.map((c) => csvCell(EXAMPLE[c.key] ?? '')).join(',');
  return `\uFEFF${header}\r\n${example}\r\n`;
}

const EXAMPLE: Record<string, string> = {
  patient_no: 'MZ000123',
  id_number: '11010519491231002X',
  name: '张三',
  gender: '男',
  birth_date: '1949-12-31',
  phone: '13800001111',
  address: '青石街道荷花社区创业路325号',
  visit_no: 'V20250101001',
  visit_date: '2025-01-01 09:30',
  visit_type: '门诊',
  department: '发热门诊',
  discharge_date: '',
  diagnosis_code: 'J10.1',
  diagnosis_name: '流行性感冒',
  diagnosis_date: '2025-01-01',
  diagnosis_status: '确诊',
  report_no: 'L20250101001',
  test_code: 'LIS0231',
  test_name: '甲型流感病毒核酸',
  result: '阳性',
  unit: '',
  reference_range: '阴性',
  abnormal_flag: '',
  specimen_type: '咽拭子',
  collected_at: '2025-01-01 10:00',
  reported_at: '2025-01-01 15:00',
  prescription_no: 'RX20250101001',
  drug_code: 'X0001',
  drug_name: '奥司他韦胶囊',
  dose: '75mg',
  frequency: 'bid',
  days: '5',
  prescribed_at: '2025-01-01',
  vaccine_code: 'HepB',
  vaccine_name: '乙肝疫苗',
  lot_number: '202401001',
  vaccination_date: '2025-01-01',
  dose_number: '1',
  manufacturer: '某生物制品有限公司',
};
