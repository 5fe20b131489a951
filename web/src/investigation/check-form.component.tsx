/** 记录健康监测: one day's check of a close contact (symptoms yes/no, temperature, note). */
import { useEffect, useState } from 'react';
import { Alert, App, Form, Input, InputNumber, Modal, Radio } from 'antd';
import { ApiError } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { todayInChina } from '../../../src/shared/dates.js';
import { DayInput } from './day-input.component.js';
import { recordCheck, type Check } from './investigation.resource.js';

export interface CheckTarget {
  contactId: number;
  name: string;
  /** The day to record (today when absent). */
  day?: string;
  followUpStart?: string;
  followUpEnd?: string;
}

interface Values {
  day: string;
  symptoms: boolean;
  temperature?: number | null;
  note?: string;
}

export function CheckModal({ target, onClose, onSaved }: { target?: CheckTarget; onClose(): void; onSaved(check: Check): void }) {
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  const { message } = App.useApp();
  useEffect(() => {
    if (!target) return;
    setError(undefined);
    form.setFieldsValue({ day: target.day ?? todayInChina(), symptoms: false, temperature: null, note: '' });
  }, [target, form]);
  const submit = async () => {
    if (!target) return;
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    setSaving(true);
    setError(undefined);
    try {
      const check = await recordCheck(target.contactId, {
        day: v.day,
        symptoms: v.symptoms,
        ...(typeof v.temperature === 'number' ? { temperature: v.temperature } : {}),
        ...(v.note?.trim() ? { note: v.note.trim() } : {}),
      });
      message.success(
        check.symptoms ? t('inv.check.savedSymptoms', '已记录：有症状，请考虑转为疑似病例') : t('inv.check.saved', '已记录健康监测'),
      );
      onSaved(check);
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 409
          ? t('inv.check.closed', '该密接的医学观察已结束（观察期满或已转为病例），不能再记录')
          : e instanceof ApiError && e.status === 400 && /outside/.test(e.message)
            ? t('inv.check.outside', '所选日期不在医学观察期内')
            : e instanceof ApiError && e.status === 400 && /future/.test(e.message)
              ? t('inv.check.future', '不能记录未来日期')
              : e instanceof Error
                ? e.message
                : String(e),
      );
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open={!!target}
      title={t('inv.check.title', '记录健康监测 · {name}', { name: target?.name ?? '' })}
      okText={t('inv.check.ok', '保存')}
      cancelText={t('inv.cancel', '取消')}
      confirmLoading={saving}
      onOk={() => void submit()}
      onCancel={onClose}
      forceRender
    >
      <Form form={form} layout="vertical" data-testid="check-form">
        <Form.Item
          name="day"
          label={t('inv.check.day', '监测日期')}
          extra={
            target?.followUpStart && target.followUpEnd
              ? t('inv.check.window', '医学观察期 {start} 至 {end}', { start: target.followUpStart, end: target.followUpEnd })
              : undefined
          }
          rules={[{ required: true, message: t('inv.check.dayRequired', '请填写日期') }]}
        >
          <DayInput data-testid="check-day" />
        </Form.Item>
        <Form.Item name="symptoms" label={t('inv.check.symptoms', '有无症状')} rules={[{ required: true }]}>
          <Radio.Group data-testid="check-symptoms">
            <Radio value={false}>{t('inv.check.noSymptoms', '无症状')}</Radio>
            <Radio value={true}>{t('inv.check.hasSymptoms', '有症状')}</Radio>
          </Radio.Group>
        </Form.Item>
        <Form.Item name="temperature" label={t('inv.check.temperature', '体温（℃）')}>
          <InputNumber min={30} max={45} step={0.1} precision={1} style={{ width: 140 }} data-testid="check-temperature" />
        </Form.Item>
        <Form.Item name="note" label={t('inv.check.note', '备注')}>
          <Input.TextArea rows={2} maxLength={1000} />
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon message={error} data-testid="check-error" />}
    </Modal>
  );
}
