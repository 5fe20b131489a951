/** Display labels for FHIR codes the record page shows (statuses, encounter classes, code systems). */
import { t } from '../i18n/i18n.js';
import { ICD10_SYSTEM, LOINC_SYSTEM, VACCINE_SYSTEM } from '../../../src/shared/uris.js';
import type { Coding } from '@medplum/fhirtypes';

export function encounterClassLabel(coding: Coding | undefined): string {
  switch (coding?.code) {
    case 'AMB':
      return t('encounterClass.AMB', '门诊');
    case 'EMER':
      return t('encounterClass.EMER', '急诊');
    case 'IMP':
    case 'ACUTE':
      return t('encounterClass.IMP', '住院');
    case 'NONAC':
      return t('encounterClass.NONAC', '住院（非急性）');
    case 'OBSENC':
      return t('encounterClass.OBSENC', '留观');
    case 'SS':
      return t('encounterClass.SS', '日间手术/日间病房');
    case 'HH':
      return t('encounterClass.HH', '居家/上门服务');
    case 'VR':
      return t('encounterClass.VR', '远程');
    case 'FLD':
      return t('encounterClass.FLD', '现场');
    case 'PRENC':
      return t('encounterClass.PRENC', '预约');
    case 'wellness':
      return t('encounterClass.wellness', '健康体检');
    default:
      return coding?.display ?? coding?.code ?? '';
  }
}

/** Tag colour for an encounter class. */
export function encounterClassColor(code: string | undefined): string {
  switch (code) {
    case 'EMER':
      return 'red';
    case 'IMP':
    case 'ACUTE':
    case 'NONAC':
      return 'purple';
    case 'HH':
    case 'VR':
      return 'cyan';
    case 'wellness':
      return 'green';
    default:
      return 'blue';
  }
}

export function clinicalStatusLabel(code: string | undefined): string {
  switch (code) {
    case 'active':
      return t('clinicalStatus.active', '活动');
    case 'recurrence':
      return t('clinicalStatus.recurrence', '复发');
    case 'relapse':
      return t('clinicalStatus.relapse', '再发');
    case 'inactive':
      return t('clinicalStatus.inactive', '非活动');
    case 'remission':
      return t('clinicalStatus.remission', '缓解');
    case 'resolved':
      return t('clinicalStatus.resolved', '已痊愈');
    default:
      return code ?? '';
  }
}

export function clinicalStatusColor(code: string | undefined): string {
  switch (code) {
    case 'active':
    case 'recurrence':
    case 'relapse':
      return 'volcano';
    case 'remission':
      return 'gold';
    case 'resolved':
    case 'inactive':
      return 'green';
    default:
      return 'default';
  }
}

/** Statuses of requests and events (MedicationRequest, Immunization, Procedure, Encounter...). */
export function statusLabel(code: string | undefined): string {
  switch (code) {
    case 'active':
      return t('status.active', '有效');
    case 'completed':
      return t('status.completed', '已完成');
    case 'finished':
      return t('status.finished', '已结束');
    case 'in-progress':
      return t('status.inProgress', '进行中');
    case 'stopped':
      return t('status.stopped', '已停用');
    case 'on-hold':
      return t('status.onHold', '暂停');
    case 'cancelled':
      return t('status.cancelled', '已取消');
    case 'draft':
      return t('status.draft', '草稿');
    case 'not-done':
      return t('status.notDone', '未完成');
    case 'entered-in-error':
      return t('status.enteredInError', '录入错误');
    case 'final':
      return t('status.final', '最终');
    case 'preliminary':
      return t('status.preliminary', '初步');
    case 'amended':
      return t('status.amended', '已修正');
    case 'unknown':
      return t('status.unknown', '未知');
    default:
      return code ?? '';
  }
}

export function statusColor(code: string | undefined): string {
  switch (code) {
    case 'active':
    case 'in-progress':
      return 'processing';
    case 'completed':
    case 'finished':
    case 'final':
      return 'success';
    case 'stopped':
    case 'cancelled':
    case 'not-done':
      return 'default';
    case 'entered-in-error':
      return 'error';
    default:
      return 'default';
  }
}

/** Short name of a code system, for a code column ("ICD-10 I10", "SNOMED CT 59621000"). */
export function codeSystemLabel(system: string | undefined): string {
  switch (system) {
    case ICD10_SYSTEM:
      return 'ICD-10';
    case 'http://hl7.org/fhir/sid/icd-10-cm':
      return 'ICD-10-CM';
    case 'http://snomed.info/sct':
      return 'SNOMED CT';
    case LOINC_SYSTEM:
      return 'LOINC';
    case 'http://hl7.org/fhir/sid/cvx':
      return 'CVX';
    case 'http://www.nlm.nih.gov/research/umls/rxnorm':
      return 'RxNorm';
    case VACCINE_SYSTEM:
      return t('codeSystem.vaccine', '疫苗');
    default:
      return system ? (system.split(/[/:]/).filter(Boolean).pop() ?? system) : '';
  }
}

/** Observation interpretation (H, L, N, A, HH, LL ...) as label and colour. */
export function interpretationLabel(code: string | undefined): { label: string; color: string } | undefined {
  switch (code) {
    case 'H':
    case 'HU':
      return { label: t('interpretation.H', '偏高'), color: 'orange' };
    case 'HH':
      return { label: t('interpretation.HH', '危急高值'), color: 'red' };
    case 'L':
    case 'LU':
      return { label: t('interpretation.L', '偏低'), color: 'blue' };
    case 'LL':
      return { label: t('interpretation.LL', '危急低值'), color: 'red' };
    case 'N':
      return { label: t('interpretation.N', '正常'), color: 'green' };
    case 'A':
    case 'AA':
      return { label: t('interpretation.A', '异常'), color: 'orange' };
    case 'POS':
      return { label: t('interpretation.POS', '阳性'), color: 'red' };
    case 'NEG':
      return { label: t('interpretation.NEG', '阴性'), color: 'green' };
    default:
      return code ? { label: code, color: 'default' } : undefined;
  }
}

/** Marital status (HL7 v3 MaritalStatus codes, as Synthea and most HIS exports send them). */
export function maritalStatusLabel(code: string | undefined): string | undefined {
  switch (code) {
    case 'M':
      return t('marital.M', '已婚');
    case 'S':
      return t('marital.S', '未婚');
    case 'D':
      return t('marital.D', '离婚');
    case 'W':
      return t('marital.W', '丧偶');
    case 'L':
      return t('marital.L', '分居');
    case 'A':
      return t('marital.A', '婚姻无效');
    case 'T':
    case 'P':
      return t('marital.T', '同居/伴侣');
    case 'UNK':
      return t('marital.UNK', '未知');
    default:
      return undefined;
  }
}
