/**
 * 扫码 (#/lab/scan), made for a phone and a keyboard-wedge scanner (no camera): the scanner types
 * the barcode into the one field and presses Enter → the specimen's state, clock and the steps it
 * may take next are shown → choose a step, fill its few fields → 提交. A rejection needs its reason
 * (checked on the form, and by the server); the server's refusal is shown in words. After a
 * step the barcode field is ready for the next tube. The unit scanning is remembered on the device.
 */
import { useEffect, useRef, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  InputNumber,
  Radio,
  Select,
  Space,
  Tag,
  Typography,
  type InputRef,
} from 'antd';
import { ApiError, isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { getSpecimen, scan, type ScanAnswer, type ScanBody, type SpecimenView, type ScanStep } from './lab.resource.js';
import {
  chinaTime,
  clock,
  interpretationLabel,
  legLabel,
  mayScan,
  modeLabel,
  NEXT_STEPS,
  refusal,
  STATE_COLOURS,
  stateLabel,
  stepLabel,
} from './labels.js';

const UNIT_KEY = 'yf.lab.unit';
const readUnit = (): string => {
  try {
    return localStorage.getItem(UNIT_KEY) ?? '';
  } catch {
    return '';
  }
};

interface StepFields {
  shipmentId?: number;
  accepted?: boolean;
  condition?: string;
  rejectReason?: string;
  value?: string;
  interpretation?: 'positive' | 'negative' | 'indeterminate';
  deliveredTo?: string;
  orderId?: string;
  specimenType?: string;
  container?: string;
  collector?: string;
  location?: string;
  performer?: string;
}

const trim = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);

/** The scan's body from the chosen step and its fields (only what the step takes). */
function bodyOf(step: ScanStep, barcode: string, unit: string, f: StepFields): ScanBody {
  const common = { barcode, unit, location: trim(f.location), performer: trim(f.performer) };
  switch (step) {
    case 'collect':
      return {
        step,
        ...common,
        orderId: f.orderId!.trim(),
        specimenType: f.specimenType!.trim(),
        container: trim(f.container),
        collector: f.collector!.trim(),
      };
    case 'ship':
    case 'refer':
      return { step, ...common, shipmentId: f.shipmentId! };
    case 'receive':
      return {
        step,
        ...common,
        accepted: f.accepted !== false,
        condition: trim(f.condition),
        ...(f.accepted === false ? { rejectReason: trim(f.rejectReason) } : {}),
      };
    case 'result':
      return { step, ...common, value: f.value!.trim(), interpretation: f.interpretation };
    case 'report':
      return { step, ...common, deliveredTo: f.deliveredTo!.trim() };
    default:
      return { step, ...common };
  }
}

function StepForm({ step, onSubmit, submitting }: { step: ScanStep; onSubmit(f: StepFields): void; submitting: boolean }) {
  const [form] = Form.useForm<StepFields>();
  const accepted = Form.useWatch('accepted', form);
  const required = (message: string) => [{ required: true, whitespace: true, message }];
  return (
    <Form
      form={form}
      layout="vertical"
      initialValues={{ accepted: true }}
      onFinish={onSubmit}
      data-testid="step-form"
      aria-label={stepLabel(step)}
    >
      {step === 'collect' && (
        <>
          <Form.Item
            name="orderId"
            label={t('lab.f.orderId', '检验申请单号')}
            rules={required(t('lab.f.orderIdRequired', '请填写或扫描申请单号'))}
          >
            <Input data-testid="f-order" autoComplete="off" />
          </Form.Item>
          <Form.Item
            name="specimenType"
            label={t('lab.f.specimenType', '标本类型')}
            rules={required(t('lab.f.specimenTypeRequired', '请填写标本类型'))}
          >
            <Input data-testid="f-type" placeholder={t('lab.f.specimenTypeHint', '咽拭子、血清、粪便…')} />
          </Form.Item>
          <Form.Item name="container" label={t('lab.f.container', '容器')}>
            <Input />
          </Form.Item>
          <Form.Item name="collector" label={t('lab.f.collector', '采样人')} rules={required(t('lab.f.collectorRequired', '请填写采样人'))}>
            <Input data-testid="f-collector" />
          </Form.Item>
        </>
      )}
      {(step === 'ship' || step === 'refer') && (
        <Form.Item
          name="shipmentId"
          label={t('lab.f.shipment', '转运箱/批次号')}
          rules={[{ required: true, message: t('lab.f.shipmentRequired', '请扫描或填写转运箱号') }]}
        >
          <InputNumber min={1} style={{ width: '100%' }} data-testid="f-shipment" />
        </Form.Item>
      )}
      {step === 'receive' && (
        <>
          <Form.Item name="accepted" label={t('lab.f.accepted', '接收结论')}>
            <Radio.Group data-testid="f-accepted">
              <Radio value={true}>{t('lab.f.accept', '接收')}</Radio>
              <Radio value={false} data-testid="f-reject">
                {t('lab.f.reject', '拒收')}
              </Radio>
            </Radio.Group>
          </Form.Item>
          <Form.Item name="condition" label={t('lab.f.condition', '标本状况')}>
            <Input placeholder={t('lab.f.conditionHint', '完好、渗漏、溶血…')} />
          </Form.Item>
          {accepted === false && (
            <Form.Item
              name="rejectReason"
              label={t('lab.f.rejectReason', '拒收原因')}
              rules={required(t('lab.f.rejectReasonRequired', '拒收必须填写原因'))}
            >
              <Input.TextArea rows={2} maxLength={500} data-testid="f-reason" />
            </Form.Item>
          )}
        </>
      )}
      {step === 'result' && (
        <>
          <Form.Item name="value" label={t('lab.f.value', '检测结果')} rules={required(t('lab.f.valueRequired', '请填写结果'))}>
            <Input data-testid="f-value" />
          </Form.Item>
          <Form.Item name="interpretation" label={t('lab.f.interpretation', '判定')}>
            <Select
              data-testid="f-interp"
              allowClear
              options={(['positive', 'negative', 'indeterminate'] as const).map((v) => ({ value: v, label: interpretationLabel(v) }))}
            />
          </Form.Item>
        </>
      )}
      {step === 'report' && (
        <Form.Item
          name="deliveredTo"
          label={t('lab.f.deliveredTo', '报告送达（接收人/单位）')}
          rules={required(t('lab.f.deliveredToRequired', '请填写报告送达给谁'))}
        >
          <Input data-testid="f-delivered" />
        </Form.Item>
      )}
      <Form.Item name="location" label={t('lab.f.location', '地点（可选）')}>
        <Input />
      </Form.Item>
      <Form.Item name="performer" label={t('lab.f.performer', '实际操作人（非本人操作时填写）')}>
        <Input />
      </Form.Item>
      <Button type="primary" htmlType="submit" block size="large" loading={submitting} data-testid="submit-step">
        {t('lab.scan.submit', '提交：{step}', { step: stepLabel(step) })}
      </Button>
    </Form>
  );
}

function SpecimenCard({ s }: { s: SpecimenView }) {
  const c = clock(s.legDeadline);
  return (
    <Descriptions column={1} size="small" bordered data-testid="specimen-card">
      <Descriptions.Item label={t('lab.col.barcode', '条码')}>{s.barcode}</Descriptions.Item>
      <Descriptions.Item label={t('lab.col.state', '状态')}>
        <Tag color={STATE_COLOURS[s.state]} data-testid="specimen-state">
          {stateLabel(s.state)}
        </Tag>
      </Descriptions.Item>
      <Descriptions.Item label={t('lab.col.test', '检测项目')}>
        {s.testCode} · {modeLabel(s.mode)}
      </Descriptions.Item>
      <Descriptions.Item label={t('lab.col.holder', '当前所在')}>
        {s.holder.startsWith('shipment:') ? t('lab.inShipment', '转运箱 {id}', { id: s.holder.slice(9) }) : s.holder}
      </Descriptions.Item>
      <Descriptions.Item label={t('lab.col.leg', '计时环节')}>
        {legLabel(s.leg)}
        {s.leg && (
          <Typography.Text type={c.late ? 'danger' : undefined} style={{ marginLeft: 8 }} data-testid="specimen-clock">
            {c.text}（{t('lab.deadline', '时限 {at}', { at: chinaTime(s.legDeadline) })}）
          </Typography.Text>
        )}
      </Descriptions.Item>
      {s.rejectedReason && <Descriptions.Item label={t('lab.f.rejectReason', '拒收原因')}>{s.rejectedReason}</Descriptions.Item>}
      {s.result && (
        <Descriptions.Item label={t('lab.f.value', '检测结果')}>
          {s.result.value}（{interpretationLabel(s.result.interpretation)}）
        </Descriptions.Item>
      )}
    </Descriptions>
  );
}

export function ScanPage() {
  const { message } = App.useApp();
  const [unit, setUnit] = useState(readUnit);
  const [code, setCode] = useState('');
  const [barcode, setBarcode] = useState<string>();
  const [specimen, setSpecimen] = useState<SpecimenView | null>();
  const [looking, setLooking] = useState(false);
  const [step, setStep] = useState<ScanStep>();
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<ScanAnswer>();
  const field = useRef<InputRef>(null);
  const write = mayScan();
  const abort = useRef<AbortController>(undefined);

  useEffect(() => () => abort.current?.abort(), []);

  const saveUnit = (v: string) => {
    setUnit(v);
    try {
      localStorage.setItem(UNIT_KEY, v);
    } catch {
      // A private window keeps nothing; the field still works.
    }
  };

  const lookUp = async (raw: string) => {
    const bc = raw.trim();
    if (!bc) return;
    abort.current?.abort();
    const ctrl = new AbortController();
    abort.current = ctrl;
    setBarcode(bc);
    setStep(undefined);
    setError(undefined);
    setDone(undefined);
    setLooking(true);
    try {
      setSpecimen(await getSpecimen(bc, ctrl.signal));
    } catch (e) {
      if (isAbort(e)) return;
      if (e instanceof ApiError && e.status === 404) setSpecimen(null);
      else {
        setSpecimen(undefined);
        setError(refusal(e));
      }
    } finally {
      if (!ctrl.signal.aborted) setLooking(false);
    }
  };

  const submit = async (f: StepFields) => {
    if (!barcode || !step) return;
    if (!unit.trim()) {
      setError(t('lab.scan.unitRequired', '请先填写本单位（扫码所在单位或实验室的机构代码）'));
      return;
    }
    setSubmitting(true);
    setError(undefined);
    try {
      const answer = await scan(bodyOf(step, barcode, unit.trim(), f));
      setDone(answer);
      setSpecimen(answer.specimen);
      setStep(undefined);
      message.success(
        t('lab.scan.done', '已记录：{step}，标本现为“{state}”', { step: stepLabel(step), state: stateLabel(answer.specimen.state) }),
      );
      setCode('');
      field.current?.focus();
    } catch (e) {
      setError(refusal(e));
    } finally {
      setSubmitting(false);
    }
  };

  const next: ScanStep[] = specimen ? NEXT_STEPS[specimen.state] : specimen === null ? ['collect'] : [];
  return (
    <div style={{ maxWidth: 560 }}>
      <PageHeader title={t('nav.labScan', '扫码')} crumbs={[{ title: t('nav.lab', '检测送检') }, { title: t('nav.labScan', '扫码') }]} />
      <Space direction="vertical" style={{ width: '100%' }} size="middle">
        <Space.Compact style={{ width: '100%' }}>
          <Button disabled tabIndex={-1} style={{ color: 'inherit', cursor: 'default' }}>
            {t('lab.scan.unit', '本单位')}
          </Button>
          <Input
            value={unit}
            onChange={(e) => saveUnit(e.target.value)}
            placeholder={t('lab.scan.unitHint', '机构代码，如 CDC-01')}
            aria-label={t('lab.scan.unit', '本单位')}
            data-testid="scan-unit"
          />
        </Space.Compact>
        <Input.Search
          ref={field}
          size="large"
          autoFocus
          autoComplete="off"
          enterButton={t('lab.scan.lookUp', '查询')}
          placeholder={t('lab.scan.barcodeHint', '扫描或输入条码后回车')}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          onSearch={(v) => void lookUp(v)}
          loading={looking}
          data-testid="barcode"
          aria-label={t('lab.col.barcode', '条码')}
        />
        {!write && <Alert type="info" showIcon message={t('lab.scan.readOnly', '您的角色只能查看，不能扫码登记')} />}
        {specimen === null && (
          <Alert
            type="warning"
            showIcon
            data-testid="not-found"
            message={t('lab.scan.notFound', '条码 {barcode} 还没有采过样：如是新采样管，请选择“采样”', { barcode: barcode ?? '' })}
          />
        )}
        {specimen && (
          <Card size="small">
            <SpecimenCard s={specimen} />
            <div style={{ marginTop: 8 }}>
              <a href={`#/lab/specimens/${encodeURIComponent(specimen.barcode)}`}>{t('lab.scan.detail', '查看全程记录')}</a>
            </div>
          </Card>
        )}
        {(specimen || specimen === null) && (
          <Card size="small" title={t('lab.scan.next', '下一步')} data-testid="next-steps">
            {next.length ? (
              <Space wrap>
                {next.map((s) => (
                  <Button
                    key={s}
                    size="large"
                    type={step === s ? 'primary' : 'default'}
                    disabled={!write}
                    onClick={() => {
                      setStep(s);
                      setError(undefined);
                    }}
                    data-testid={`step-${s}`}
                  >
                    {stepLabel(s)}
                  </Button>
                ))}
              </Space>
            ) : (
              <Typography.Text type="secondary" data-testid="no-next">
                {specimen?.state === 'rejected'
                  ? t('lab.scan.endRejected', '标本已拒收，流程结束（如需检测请重新采样）')
                  : t('lab.scan.endReported', '报告已送达，流程已闭环')}
              </Typography.Text>
            )}
          </Card>
        )}
        {step && (
          <Card size="small" title={stepLabel(step)}>
            <StepForm key={`${barcode}-${step}`} step={step} onSubmit={(f) => void submit(f)} submitting={submitting} />
          </Card>
        )}
        {error && <Alert type="error" showIcon message={error} data-testid="scan-error" />}
        {done && (
          <Alert
            type={done.warnings.length ? 'warning' : 'success'}
            showIcon
            data-testid="scan-done"
            message={t('lab.scan.recorded', '{step} 已记录（{who}，{at}），标本现为“{state}”', {
              step: stepLabel(done.event.step),
              who: done.event.performer ?? done.event.byUser,
              at: chinaTime(done.event.at),
              state: stateLabel(done.specimen.state),
            })}
            description={done.warnings.length ? done.warnings.join('；') : undefined}
          />
        )}
      </Space>
    </div>
  );
}
