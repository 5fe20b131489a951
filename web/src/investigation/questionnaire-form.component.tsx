/**
 * 个案调查表: the disease's FHIR Questionnaire rendered as an Ant Design form, pre-filled from the
 * record before the first save, saved with the investigation's version (409 when someone saved
 * in between: what was typed stays in the form to save again).
 */
import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Form, Input, InputNumber, Radio, Select, Space, Tag, Typography } from 'antd';
import type { Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';
import { ApiError } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { DayInput } from './day-input.component.js';
import { saveForm, type Form as InvForm } from './investigation.resource.js';

type Answer = string | number | boolean;

export const CONFLICT_TEXT = () => t('inv.conflict', '已被他人修改，请刷新后重试');

function optionsOf(item: QuestionnaireItem) {
  return (item.answerOption ?? []).map((o) => {
    const code = o.valueCoding?.code ?? o.valueString ?? String(o.valueInteger ?? '');
    return { value: code, label: o.valueCoding?.display ?? code };
  });
}

function Field({ item, prefilled }: { item: QuestionnaireItem; prefilled: boolean }) {
  const label = (
    <Space size={4}>
      <span>{item.text ?? item.linkId}</span>
      {prefilled && (
        <Tag color="blue" bordered={false} style={{ marginInlineEnd: 0 }}>
          {t('inv.form.prefilled', '来自档案')}
        </Tag>
      )}
    </Space>
  );
  const rules = item.required ? [{ required: true, message: t('inv.form.required', '请填写{field}', { field: item.text ?? '' }) }] : [];
  const common = { name: item.linkId, label, rules, 'data-linkid': item.linkId } as const;
  switch (item.type) {
    case 'boolean':
      return (
        <Form.Item {...common}>
          <Radio.Group>
            <Radio value={true}>{t('inv.yes', '是')}</Radio>
            <Radio value={false}>{t('inv.no', '否')}</Radio>
          </Radio.Group>
        </Form.Item>
      );
    case 'integer':
      return (
        <Form.Item {...common}>
          <InputNumber precision={0} style={{ width: 160 }} disabled={item.readOnly} />
        </Form.Item>
      );
    case 'decimal':
      return (
        <Form.Item {...common}>
          <InputNumber step={0.1} style={{ width: 160 }} disabled={item.readOnly} />
        </Form.Item>
      );
    case 'date':
      return (
        <Form.Item {...common}>
          <DayInput disabled={item.readOnly} />
        </Form.Item>
      );
    case 'choice': {
      const options = optionsOf(item);
      return (
        <Form.Item {...common}>
          {options.length <= 4 ? (
            <Radio.Group options={options} disabled={item.readOnly} />
          ) : (
            <Select options={options} allowClear style={{ maxWidth: 320 }} disabled={item.readOnly} />
          )}
        </Form.Item>
      );
    }
    case 'text':
      return (
        <Form.Item {...common}>
          <Input.TextArea rows={3} maxLength={4000} disabled={item.readOnly} style={{ maxWidth: 840 }} />
        </Form.Item>
      );
    case 'display':
      return <Typography.Paragraph type="secondary">{item.text}</Typography.Paragraph>;
    default:
      return (
        <Form.Item {...common}>
          <Input maxLength={4000} disabled={item.readOnly} style={{ maxWidth: 560 }} />
        </Form.Item>
      );
  }
}

function Items({ items, prefilled }: { items: QuestionnaireItem[]; prefilled: Set<string> }) {
  return (
    <>
      {items.map((item) =>
        item.type === 'group' ? (
          <Card key={item.linkId} size="small" title={item.text} style={{ marginBottom: 12 }} data-testid={`form-group-${item.linkId}`}>
            <Items items={item.item ?? []} prefilled={prefilled} />
          </Card>
        ) : (
          <Field key={item.linkId} item={item} prefilled={prefilled.has(item.linkId)} />
        ),
      )}
    </>
  );
}

/** The answers worth sending: nothing empty. */
function cleaned(values: Record<string, unknown>): Record<string, Answer> {
  const out: Record<string, Answer> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' && !v.trim()) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
}

export function QuestionnaireForm({
  data,
  version,
  readOnly,
  onSaved,
  onConflict,
}: {
  data: InvForm;
  /** The investigation's version as last read. */
  version: number;
  readOnly: boolean;
  onSaved(form: InvForm): void;
  /** Someone saved in between: reload the investigation (the typed answers stay here). */
  onConflict(): void;
}) {
  const [form] = Form.useForm<Record<string, unknown>>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  const { message } = App.useApp();
  const questionnaire = data.questionnaire as unknown as Questionnaire;
  const prefilled = new Set(data.prefilled);
  useEffect(() => {
    form.resetFields();
    form.setFieldsValue(data.answers);
  }, [data, form]);
  const save = async (complete: boolean) => {
    let values: Record<string, unknown>;
    try {
      values = complete ? await form.validateFields() : form.getFieldsValue(true);
    } catch {
      return;
    }
    setSaving(true);
    setError(undefined);
    try {
      const saved = await saveForm(data.investigationId, { version, answers: cleaned(values), complete });
      message.success(complete ? t('inv.form.completed', '调查表已保存并标记为完成') : t('inv.form.saved', '调查表已保存'));
      onSaved(saved);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setError(CONFLICT_TEXT());
        message.error(CONFLICT_TEXT());
        onConflict();
      } else setError(e instanceof Error ? e.message : String(e));
    } finally {
      setSaving(false);
    }
  };
  const completed = (data.response as { status?: string } | null)?.status === 'completed';
  return (
    <div data-testid="questionnaire">
      <Space style={{ marginBottom: 12 }} wrap>
        <Typography.Text strong>{questionnaire.title ?? t('inv.tab.form', '个案调查表')}</Typography.Text>
        {data.response ? (
          <Tag color={completed ? 'success' : 'processing'}>{completed ? t('inv.form.done', '已完成') : t('inv.form.draft', '已暂存')}</Tag>
        ) : (
          <Tag>{t('inv.form.new', '未保存：已按档案预填')}</Tag>
        )}
      </Space>
      {error && (
        <Alert
          type="error"
          showIcon
          message={error}
          description={
            error === CONFLICT_TEXT()
              ? t('inv.form.conflictKept', '您填写的内容仍保留在表单中；已载入最新版本，核对后可再次保存。')
              : undefined
          }
          style={{ marginBottom: 12 }}
          data-testid="form-error"
        />
      )}
      <Form form={form} layout="vertical" disabled={readOnly || saving} data-testid="questionnaire-form">
        <Items items={questionnaire.item ?? []} prefilled={prefilled} />
      </Form>
      {!readOnly && (
        <Space>
          <Button onClick={() => void save(false)} loading={saving} data-testid="form-save">
            {t('inv.form.save', '暂存')}
          </Button>
          <Button type="primary" onClick={() => void save(true)} loading={saving} data-testid="form-complete">
            {t('inv.form.complete', '保存并完成')}
          </Button>
        </Space>
      )}
    </div>
  );
}
