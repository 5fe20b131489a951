/** 随访表: readings, symptoms, adherence, adverse reactions, advice; shows the next visit by the rules. */
import { useState } from 'react';
import { Alert, App, Button, Checkbox, DatePicker, Descriptions, Drawer, Form, InputNumber, Radio, Select, Space, Switch, Tag } from 'antd';
import dayjs from 'dayjs';
import { t } from '../i18n/i18n.js';
import { recordFollowUp, type FollowUpResult, type WorkRow } from './chronic.resource.js';
import { decisionLabel, diseaseLabel } from './labels.js';

const SYMPTOMS = [
  'severe-headache',
  'vomiting',
  'chest-pain',
  'impaired-consciousness',
  'dyspnoea',
  'blurred-vision',
  'palpitations',
] as const;
const symptomLabel = (code: (typeof SYMPTOMS)[number]) =>
  ({
    'severe-headache': t('chronic.sym.severe-headache', '剧烈头痛'),
    vomiting: t('chronic.sym.vomiting', '呕吐'),
    'chest-pain': t('chronic.sym.chest-pain', '胸痛'),
    'impaired-consciousness': t('chronic.sym.impaired-consciousness', '意识障碍'),
    dyspnoea: t('chronic.sym.dyspnoea', '呼吸困难'),
    'blurred-vision': t('chronic.sym.blurred-vision', '视物模糊'),
    palpitations: t('chronic.sym.palpitations', '心悸'),
  })[code];

export function FollowUpDrawer({
  row,
  onClose,
  onSaved,
}: {
  row: Pick<WorkRow, 'patientId' | 'name' | 'disease'>;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [result, setResult] = useState<FollowUpResult | null>(null);
  const [saving, setSaving] = useState(false);
  const save = async () => {
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    setSaving(true);
    try {
      const r = await recordFollowUp({
        patientId: row.patientId,
        date: (v.date as dayjs.Dayjs).format('YYYY-MM-DD'),
        mode: v.mode,
        readings: { sbp: v.sbp ?? undefined, dbp: v.dbp ?? undefined, fpg: v.fpg ?? undefined, hba1c: v.hba1c ?? undefined },
        symptoms: v.symptoms ?? [],
        adherence: v.adherence,
        adverseReaction: v.adverseReaction,
        newComplication: v.newComplication ?? false,
        advice: v.advice ?? [],
      });
      setResult(r);
      message.success(t('chronic.fu.saved', '随访已保存'));
      onSaved();
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Drawer
      open
      width={560}
      onClose={onClose}
      title={`${t('chronic.fu.title', '慢病随访')} · ${row.name ?? row.patientId} · ${diseaseLabel(row.disease)}`}
    >
      <Form
        form={form}
        layout="vertical"
        initialValues={{ date: dayjs(), mode: 'face-to-face', adherence: 'regular', adverseReaction: 'none' }}
      >
        <Space wrap>
          <Form.Item name="date" label={t('chronic.fu.date', '随访日期')} rules={[{ required: true }]}>
            <DatePicker disabledDate={(d) => d.isAfter(dayjs(), 'day')} />
          </Form.Item>
          <Form.Item name="mode" label={t('chronic.fu.mode', '随访方式')}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'face-to-face', label: t('chronic.fu.clinic', '门诊') },
                { value: 'home', label: t('chronic.fu.home', '家庭') },
                { value: 'phone', label: t('chronic.fu.phone', '电话') },
              ]}
            />
          </Form.Item>
        </Space>
        <Space wrap>
          <Form.Item name="sbp" label={t('chronic.fu.sbp', '收缩压 mmHg')}>
            <InputNumber />
          </Form.Item>
          <Form.Item name="dbp" label={t('chronic.fu.dbp', '舒张压 mmHg')}>
            <InputNumber />
          </Form.Item>
          <Form.Item name="fpg" label={t('chronic.fu.fpg', '空腹血糖 mmol/L')}>
            <InputNumber step={0.1} />
          </Form.Item>
          <Form.Item name="hba1c" label={t('chronic.fu.hba1c', '糖化血红蛋白 %')}>
            <InputNumber step={0.1} />
          </Form.Item>
        </Space>
        <Form.Item name="symptoms" label={t('chronic.fu.symptoms', '症状（危急症状将紧急转诊）')}>
          <Checkbox.Group options={SYMPTOMS.map((value) => ({ value, label: symptomLabel(value) }))} />
        </Form.Item>
        <Space wrap>
          <Form.Item name="adherence" label={t('chronic.fu.adherence', '服药依从性')}>
            <Select
              style={{ width: 140 }}
              options={[
                { value: 'regular', label: t('chronic.fu.regular', '规律') },
                { value: 'intermittent', label: t('chronic.fu.intermittent', '间断') },
                { value: 'none', label: t('chronic.fu.noMeds', '不服药') },
              ]}
            />
          </Form.Item>
          <Form.Item name="adverseReaction" label={t('chronic.fu.adverse', '药物不良反应')}>
            <Select
              style={{ width: 160 }}
              options={[
                { value: 'none', label: t('chronic.fu.none', '无') },
                { value: 'manageable', label: t('chronic.fu.manageable', '有，可处理') },
                { value: 'unmanageable', label: t('chronic.fu.unmanageable', '有，不可耐受') },
              ]}
            />
          </Form.Item>
          <Form.Item name="newComplication" label={t('chronic.fu.complication', '新发/加重并发症')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Space>
        <Form.Item name="advice" label={t('chronic.fu.advice', '生活方式指导')}>
          <Checkbox.Group
            options={[
              { value: '限盐', label: t('chronic.adv.salt', '限盐') },
              { value: '戒烟限酒', label: t('chronic.adv.smoke', '戒烟限酒') },
              { value: '规律运动', label: t('chronic.adv.exercise', '规律运动') },
              { value: '控制体重', label: t('chronic.adv.weight', '控制体重') },
              { value: '心理调整', label: t('chronic.adv.mind', '心理调整') },
            ]}
          />
        </Form.Item>
        <Button type="primary" loading={saving} onClick={() => void save()}>
          {t('chronic.fu.save', '保存并计算下次随访')}
        </Button>
      </Form>
      {result && (
        <Alert
          style={{ marginTop: 16 }}
          type={
            result.plans.some((p) => p.decision === 'urgent-referral')
              ? 'error'
              : result.plans.some((p) => p.decision !== 'routine')
                ? 'warning'
                : 'success'
          }
          message={t('chronic.fu.next', '下次随访（规则集 {v}）', { v: result.ruleVersion })}
          description={
            <Descriptions size="small" column={1}>
              {result.plans.map((p) => (
                <Descriptions.Item key={p.disease} label={diseaseLabel(p.disease)}>
                  <Space wrap>
                    <Tag>{decisionLabel(p.decision)}</Tag>
                    {p.dueDate}
                    {p.reasons.join('；')}
                  </Space>
                </Descriptions.Item>
              ))}
            </Descriptions>
          }
        />
      )}
    </Drawer>
  );
}
