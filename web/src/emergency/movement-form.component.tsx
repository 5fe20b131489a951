/**
 * 入库 / 出库 / 调拨: one form for the three stock movements. Fields are checked here first
 * (required, positive quantity with at most 3 decimals, a batch number of letters and digits,
 * another unit to transfer to); the server's refusal is shown as it says it — a short stock in
 * words with what is available.
 */
import { useEffect, useState } from 'react';
import { Alert, App, Form, Input, InputNumber, Modal, Select, Typography } from 'antd';
import { t } from '../i18n/i18n.js';
import { DayInput } from '../investigation/day-input.component.js';
import { issueStock, receive, transferStock } from './emergency.resource.js';
import type { Names } from './hooks.js';
import { refusal, shortStock } from './labels.js';

export type MovementFormKind = 'receipt' | 'issue' | 'transfer';

interface Values {
  unit: string;
  toUnit?: string;
  item: string;
  batchNo?: string;
  expiresOn?: string;
  quantity: number;
  from?: string;
  to?: string;
  note?: string;
}

const TITLES = (): Record<MovementFormKind, string> => ({
  receipt: t('em.move.receipt', '物资入库'),
  issue: t('em.move.issue', '物资出库'),
  transfer: t('em.move.transfer', '物资调拨'),
});

const trim = (v?: string) => (v?.trim() ? v.trim() : undefined);

export function MovementModal({
  kind,
  names,
  onClose,
  onSaved,
}: {
  kind?: MovementFormKind;
  names: Names;
  onClose(): void;
  onSaved(): void;
}) {
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<{ lead: string; server?: string }>();
  const { message } = App.useApp();
  useEffect(() => {
    if (kind) {
      form.resetFields();
      setError(undefined);
    }
  }, [kind, form]);
  const item = Form.useWatch('item', form);
  const uom = item ? names.uom(item) : '';
  const submit = async () => {
    if (!kind) return;
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    setSaving(true);
    setError(undefined);
    try {
      const note = trim(v.note);
      const answer =
        kind === 'receipt'
          ? await receive({
              unit: v.unit,
              item: v.item,
              batchNo: v.batchNo!.trim(),
              quantity: v.quantity,
              ...(v.expiresOn ? { expiresOn: v.expiresOn } : {}),
              ...(trim(v.from) ? { from: trim(v.from) } : {}),
              ...(note ? { note } : {}),
            })
          : kind === 'issue'
            ? await issueStock({
                unit: v.unit,
                item: v.item,
                quantity: v.quantity,
                ...(trim(v.to) ? { to: trim(v.to) } : {}),
                ...(note ? { note } : {}),
              })
            : await transferStock({ fromUnit: v.unit, toUnit: v.toUnit!, item: v.item, quantity: v.quantity, ...(note ? { note } : {}) });
      if (answer.warnings.length)
        message.warning(t('em.move.savedWarned', '已保存；产生 {n} 条储备预警，请查看“储备预警”', { n: answer.warnings.length }));
      else message.success(t('em.move.saved', '已保存'));
      onSaved();
    } catch (e) {
      const short = shortStock(e, uom);
      setError(
        short
          ? { lead: short, server: e instanceof Error ? e.message : undefined }
          : { lead: refusal(e, { 422: t('em.move.refused', '未能保存') }) },
      );
    } finally {
      setSaving(false);
    }
  };
  const unitOptions = names.units.map((u) => ({ value: u.code, label: u.name }));
  return (
    <Modal
      open={!!kind}
      title={kind ? TITLES()[kind] : ''}
      okText={t('em.save', '保存')}
      cancelText={t('em.cancel', '取消')}
      confirmLoading={saving}
      onOk={() => void submit()}
      onCancel={onClose}
      forceRender
    >
      <Form form={form} layout="vertical" data-testid="movement-form">
        <Form.Item
          name="unit"
          label={kind === 'transfer' ? t('em.move.fromUnit', '调出单位') : t('em.move.unit', '单位')}
          rules={[{ required: true, message: t('em.move.unitRequired', '请选择单位') }]}
        >
          <Select data-testid="move-unit" options={unitOptions} placeholder={t('em.move.pickUnit', '选择单位')} />
        </Form.Item>
        {kind === 'transfer' && (
          <Form.Item
            name="toUnit"
            label={t('em.move.toUnit', '调入单位')}
            dependencies={['unit']}
            rules={[
              { required: true, message: t('em.move.unitRequired', '请选择单位') },
              ({ getFieldValue }) => ({
                validator: (_, value?: string) =>
                  value && value === getFieldValue('unit')
                    ? Promise.reject(new Error(t('em.move.sameUnit', '调入单位不能与调出单位相同')))
                    : Promise.resolve(),
              }),
            ]}
          >
            <Select data-testid="move-to-unit" options={unitOptions} placeholder={t('em.move.pickUnit', '选择单位')} />
          </Form.Item>
        )}
        <Form.Item
          name="item"
          label={t('em.move.item', '物资')}
          rules={[{ required: true, message: t('em.move.itemRequired', '请选择物资') }]}
        >
          <Select
            data-testid="move-item"
            showSearch
            optionFilterProp="label"
            placeholder={t('em.move.pickItem', '选择物资')}
            options={names.items.map((i) => ({ value: i.code, label: `${i.name}（${i.uom}）` }))}
          />
        </Form.Item>
        {kind === 'receipt' && (
          <>
            <Form.Item
              name="batchNo"
              label={t('em.move.batchNo', '批号')}
              rules={[
                { required: true, whitespace: true, message: t('em.move.batchRequired', '请填写批号') },
                { pattern: /^\s*[A-Za-z0-9._-]{1,100}\s*$/, message: t('em.move.batchPattern', '批号只能由字母、数字和 . _ - 组成') },
              ]}
            >
              <Input data-testid="move-batch" maxLength={100} />
            </Form.Item>
            <Form.Item name="expiresOn" label={t('em.move.expiresOn', '有效期至（无效期可不填）')}>
              <DayInput data-testid="move-expires" />
            </Form.Item>
          </>
        )}
        <Form.Item
          name="quantity"
          label={uom ? t('em.move.quantityUom', '数量（{uom}）', { uom }) : t('em.move.quantity', '数量')}
          rules={[
            { required: true, message: t('em.move.quantityRequired', '请填写数量') },
            {
              validator: (_, v?: number | null) =>
                v === undefined || v === null
                  ? Promise.resolve()
                  : !(v > 0)
                    ? Promise.reject(new Error(t('em.move.quantityPositive', '数量须大于 0')))
                    : Math.abs(Math.round(v * 1000) - v * 1000) > 1e-6
                      ? Promise.reject(new Error(t('em.move.quantityDecimals', '数量最多保留 3 位小数')))
                      : Promise.resolve(),
            },
          ]}
        >
          <InputNumber data-testid="move-quantity" style={{ width: 200 }} max={1e9} />
        </Form.Item>
        {kind === 'receipt' && (
          <Form.Item name="from" label={t('em.move.from', '来源（供应商或上级调拨）')}>
            <Input maxLength={200} />
          </Form.Item>
        )}
        {kind === 'issue' && (
          <Form.Item name="to" label={t('em.move.to', '领用方（队伍、科室或现场）')}>
            <Input maxLength={200} />
          </Form.Item>
        )}
        <Form.Item name="note" label={t('em.move.note', '备注')}>
          <Input.TextArea rows={2} maxLength={500} />
        </Form.Item>
        {kind !== 'receipt' && (
          <Typography.Text type="secondary">{t('em.move.fefo', '按“先到期先出”自动选择批次；已过期批次不会出库。')}</Typography.Text>
        )}
      </Form>
      {error && (
        <Alert
          type="error"
          showIcon
          message={error.lead}
          description={error.server}
          data-testid="movement-error"
          style={{ marginTop: 12 }}
        />
      )}
    </Modal>
  );
}
