/** The record's lists: 诊断, 用药, 检验检查, 预防接种, 手术/操作, each as a table with an empty state. */
import { useState } from 'react';
import { Empty, Select, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import type { CodeableConcept, Condition, Dosage, Immunization, MedicationRequest, Observation, Procedure } from '@medplum/fhirtypes';
import { t } from '../i18n/i18n.js';
import { conceptText, formatDate, formatDateTime, formatPeriod } from '../shared/format.js';
import { clinicalStatusColor, clinicalStatusLabel, codeSystemLabel, interpretationLabel, statusColor, statusLabel } from './labels.js';
import { observationTime } from './record.model.js';

const dash = <Typography.Text type="secondary">—</Typography.Text>;

function empty(text: string) {
  return { emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={text} /> };
}

const pagination = { pageSize: 10, hideOnSinglePage: true, showSizeChanger: false, size: 'small' as const };

function Codes({ concept }: { concept: CodeableConcept | undefined }) {
  const codings = (concept?.coding ?? []).filter((c) => c.code);
  if (!codings.length) return dash;
  return (
    <Space size={[4, 4]} wrap>
      {codings.map((c, i) => (
        <Tag key={`${c.system}-${c.code}-${i}`} className="yf-code-tag">
          <Typography.Text type="secondary">{codeSystemLabel(c.system)}</Typography.Text> <span className="yf-mono">{c.code}</span>
        </Tag>
      ))}
    </Space>
  );
}

function StatusTag({ code }: { code: string | undefined }) {
  return code ? <Tag color={statusColor(code)}>{statusLabel(code)}</Tag> : dash;
}

export function ConditionsTable({ conditions }: { conditions: Condition[] }) {
  const columns: TableColumnsType<Condition> = [
    { title: t('conditions.name', '诊断名称'), key: 'name', render: (_, c) => conceptText(c.code) || dash },
    { title: t('conditions.code', '编码 (ICD-10 / SNOMED)'), key: 'code', render: (_, c) => <Codes concept={c.code} /> },
    {
      title: t('conditions.onset', '发病/诊断日期'),
      key: 'onset',
      width: 140,
      render: (_, c) => formatDate(c.onsetDateTime ?? c.onsetPeriod?.start ?? c.recordedDate) || c.onsetString || dash,
    },
    {
      title: t('conditions.abatement', '痊愈日期'),
      key: 'abatement',
      width: 120,
      render: (_, c) => formatDate(c.abatementDateTime) || dash,
    },
    {
      title: t('conditions.status', '临床状态'),
      key: 'status',
      width: 110,
      render: (_, c) => {
        const code = c.clinicalStatus?.coding?.[0]?.code;
        return code ? <Tag color={clinicalStatusColor(code)}>{clinicalStatusLabel(code)}</Tag> : dash;
      },
    },
  ];
  return (
    <Table<Condition>
      data-testid="conditions-table"
      size="small"
      rowKey={(c) => c.id ?? conceptText(c.code)}
      columns={columns}
      dataSource={conditions}
      pagination={pagination}
      locale={empty(t('conditions.empty', '暂无诊断记录'))}
    />
  );
}

function periodUnitLabel(unit: string | undefined): string {
  switch (unit) {
    case 'h':
      return t('dosage.unit.h', '小时');
    case 'd':
      return t('dosage.unit.d', '日');
    case 'wk':
      return t('dosage.unit.wk', '周');
    case 'mo':
      return t('dosage.unit.mo', '月');
    default:
      return unit ?? '';
  }
}

/** Dosage as text: its own text, else built from dose and timing ("每日 1 次，每次 1 片"). */
export function dosageText(dosage: Dosage): string {
  if (dosage.text) return dosage.text;
  const parts: string[] = [];
  const repeat = dosage.timing?.repeat;
  if (repeat?.frequency && repeat.periodUnit) {
    const period = repeat.period && repeat.period !== 1 ? `${repeat.period}` : '';
    const every = t('dosage.every', '{period}{unit}', { period, unit: periodUnitLabel(repeat.periodUnit) }).trim();
    parts.push(t('dosage.frequency', '每{every} {n} 次', { every, n: repeat.frequency }));
  }
  const dose = dosage.doseAndRate?.find((d) => d.doseQuantity)?.doseQuantity;
  if (dose?.value !== undefined) {
    parts.push(t('dosage.dose', '每次 {dose}', { dose: `${dose.value}${dose.unit ? ` ${dose.unit}` : ''}` }));
  }
  if (dosage.asNeededBoolean) parts.push(t('dosage.asNeeded', '必要时'));
  return parts.join(t('dosage.separator', '，'));
}

export function MedicationsTable({ medications, names }: { medications: MedicationRequest[]; names?: Map<string, string> }) {
  const columns: TableColumnsType<MedicationRequest> = [
    {
      title: t('medications.name', '药品'),
      key: 'name',
      render: (_, m) =>
        conceptText(m.medicationCodeableConcept) ||
        m.medicationReference?.display ||
        (m.medicationReference?.reference && names?.get(m.medicationReference.reference)) ||
        dash,
    },
    {
      title: t('medications.dosage', '用法用量'),
      key: 'dosage',
      width: 200,
      render: (_, m) => m.dosageInstruction?.map(dosageText).filter(Boolean).join('；') || dash,
    },
    { title: t('medications.authoredOn', '开具日期'), key: 'authoredOn', width: 130, render: (_, m) => formatDate(m.authoredOn) || dash },
    { title: t('medications.requester', '开方医生'), key: 'requester', width: 180, render: (_, m) => m.requester?.display || dash },
    { title: t('medications.status', '状态'), key: 'status', width: 100, render: (_, m) => <StatusTag code={m.status} /> },
  ];
  return (
    <Table<MedicationRequest>
      data-testid="medications-table"
      size="small"
      rowKey={(m) => m.id ?? `${conceptText(m.medicationCodeableConcept)}-${m.authoredOn}`}
      columns={columns}
      dataSource={medications}
      pagination={pagination}
      locale={empty(t('medications.empty', '暂无用药记录'))}
    />
  );
}

function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Observation value as text: quantity with unit, code, string, or a component list (e.g. 150/90). */
export function observationValue(obs: Observation): string {
  if (obs.valueQuantity?.value !== undefined) {
    const unit = obs.valueQuantity.unit ?? obs.valueQuantity.code ?? '';
    return `${obs.valueQuantity.comparator ?? ''}${round(obs.valueQuantity.value)}${unit ? ` ${unit}` : ''}`;
  }
  if (obs.valueCodeableConcept) return conceptText(obs.valueCodeableConcept);
  if (obs.valueString !== undefined) return obs.valueString;
  if (obs.valueBoolean !== undefined) return obs.valueBoolean ? t('common.yes', '是') : t('common.no', '否');
  if (obs.valueInteger !== undefined) return String(obs.valueInteger);
  if (obs.component?.length) {
    return obs.component
      .map(
        (c) =>
          `${conceptText(c.code)} ${c.valueQuantity?.value !== undefined ? round(c.valueQuantity.value) : (c.valueString ?? conceptText(c.valueCodeableConcept))}`,
      )
      .join('；');
  }
  return '';
}

function referenceRange(obs: Observation): string {
  const range = obs.referenceRange?.[0];
  if (!range) return '';
  if (range.text) return range.text;
  const low = range.low?.value;
  const high = range.high?.value;
  if (low !== undefined && high !== undefined) return `${low}–${high}`;
  if (low !== undefined) return `≥${low}`;
  if (high !== undefined) return `≤${high}`;
  return '';
}

export function LabsTable({ labs }: { labs: Observation[] }) {
  const [item, setItem] = useState<string>();
  const names = [...new Set(labs.map((o) => conceptText(o.code)).filter(Boolean))].sort((a, b) => a.localeCompare(b));
  const rows = item ? labs.filter((o) => conceptText(o.code) === item) : labs;

  const columns: TableColumnsType<Observation> = [
    { title: t('labs.item', '检验项目'), key: 'item', render: (_, o) => conceptText(o.code) || dash },
    {
      title: t('labs.value', '结果'),
      key: 'value',
      width: 170,
      render: (_, o) => {
        const text = observationValue(o);
        const flag = o.interpretation?.[0]?.coding?.[0]?.code;
        const abnormal = !!flag && flag !== 'N' && flag !== 'NEG';
        return text ? (
          <Typography.Text strong={abnormal} type={abnormal ? 'danger' : undefined}>
            {text}
          </Typography.Text>
        ) : (
          dash
        );
      },
    },
    { title: t('labs.range', '参考范围'), key: 'range', width: 120, render: (_, o) => referenceRange(o) || dash },
    {
      title: t('labs.code', 'LOINC'),
      key: 'code',
      width: 110,
      render: (_, o) => <span className="yf-mono">{o.code.coding?.[0]?.code ?? ''}</span>,
    },
    { title: t('labs.date', '检验日期'), key: 'date', width: 150, render: (_, o) => formatDateTime(observationTime(o)) || dash },
    {
      title: t('labs.interpretation', '判读'),
      key: 'interpretation',
      width: 100,
      render: (_, o) => {
        const label = interpretationLabel(o.interpretation?.[0]?.coding?.[0]?.code);
        return label ? <Tag color={label.color}>{label.label}</Tag> : dash;
      },
    },
  ];
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }}>
      {names.length > 1 && (
        <Select
          allowClear
          showSearch
          style={{ width: 320 }}
          placeholder={t('labs.filter', '按检验项目筛选')}
          value={item}
          onChange={(value) => setItem(value)}
          options={names.map((name) => ({ value: name, label: name }))}
        />
      )}
      <Table<Observation>
        data-testid="labs-table"
        size="small"
        rowKey={(o) => o.id ?? `${conceptText(o.code)}-${observationTime(o)}`}
        columns={columns}
        dataSource={rows}
        pagination={pagination}
        locale={empty(t('labs.empty', '暂无检验检查结果'))}
      />
    </Space>
  );
}

export function ImmunizationsTable({ immunizations }: { immunizations: Immunization[] }) {
  const columns: TableColumnsType<Immunization> = [
    { title: t('immunizations.vaccine', '疫苗'), key: 'vaccine', render: (_, i) => conceptText(i.vaccineCode) || dash },
    { title: t('immunizations.code', '疫苗编码'), key: 'code', width: 160, render: (_, i) => <Codes concept={i.vaccineCode} /> },
    {
      title: t('immunizations.dose', '剂次'),
      key: 'dose',
      width: 80,
      render: (_, i) => i.protocolApplied?.[0]?.doseNumberPositiveInt ?? i.protocolApplied?.[0]?.doseNumberString ?? dash,
    },
    { title: t('immunizations.lot', '批号'), key: 'lot', width: 120, render: (_, i) => i.lotNumber || dash },
    {
      title: t('immunizations.date', '接种日期'),
      key: 'date',
      width: 130,
      render: (_, i) => formatDate(i.occurrenceDateTime) || i.occurrenceString || dash,
    },
    { title: t('immunizations.status', '状态'), key: 'status', width: 100, render: (_, i) => <StatusTag code={i.status} /> },
  ];
  return (
    <Table<Immunization>
      data-testid="immunizations-table"
      size="small"
      rowKey={(i) => i.id ?? `${conceptText(i.vaccineCode)}-${i.occurrenceDateTime}`}
      columns={columns}
      dataSource={immunizations}
      pagination={pagination}
      locale={empty(t('immunizations.empty', '暂无预防接种记录'))}
    />
  );
}

export function ProceduresTable({ procedures }: { procedures: Procedure[] }) {
  const columns: TableColumnsType<Procedure> = [
    { title: t('procedures.name', '手术/操作'), key: 'name', render: (_, p) => conceptText(p.code) || dash },
    { title: t('procedures.code', '编码'), key: 'code', width: 200, render: (_, p) => <Codes concept={p.code} /> },
    {
      title: t('procedures.date', '日期'),
      key: 'date',
      width: 220,
      render: (_, p) => formatDate(p.performedDateTime) || formatPeriod(p.performedPeriod, false) || dash,
    },
    { title: t('procedures.status', '状态'), key: 'status', width: 100, render: (_, p) => <StatusTag code={p.status} /> },
  ];
  return (
    <Table<Procedure>
      data-testid="procedures-table"
      size="small"
      rowKey={(p) => p.id ?? `${conceptText(p.code)}-${p.performedDateTime}`}
      columns={columns}
      dataSource={procedures}
      pagination={pagination}
      locale={empty(t('procedures.empty', '暂无手术/操作记录'))}
    />
  );
}
