/**
 * 应急状态与零报告 (#/emergency/mode): the district's current mode (常态 or a response level I–IV,
 * who switched it and when, and what it sets: lab limits, report deadline, daily zero reporting,
 * acknowledgement limit); the modes in force, district-wide or per area, each ended with a
 * reason; switching on or changing level after a confirm dialog naming what changes; and the
 * day's zero reports: the units that have not reported, those that have, and a form to post one.
 */
import { useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  InputNumber,
  Modal,
  Radio,
  Select,
  Space,
  Switch,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { todayInChina } from '../../../src/shared/dates.js';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PagedTable, useServerPage } from '../shared/paged-table.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  currentMode,
  endMode,
  listModes,
  listZeroReports,
  missingReports,
  postZeroReport,
  startMode,
  type CurrentModeView,
  type ModeLevel,
  type MissingList,
  type MissingUnit,
  type ModeView,
  type ZeroReportList,
} from './emergency.resource.js';
import { useNames, type Names } from './hooks.js';
import { chinaTime, LEVEL_COLOURS, levelLabel, LEVELS, mayWrite, refusal, scopeLabel } from './labels.js';

/** The categories a daily report counts (any other the server keeps is shown by its key). */
export const REPORT_CATEGORIES = () => [
  { key: 'fever', label: t('em.zero.fever', '发热病人') },
  { key: 'diarrhoea', label: t('em.zero.diarrhoea', '腹泻病人') },
  { key: 'suspected', label: t('em.zero.suspected', '疑似传染病病例') },
  { key: 'cluster', label: t('em.zero.cluster', '聚集性事件') },
];
const categoryWord = (key: string) => REPORT_CATEGORIES().find((c) => c.key === key)?.label ?? key;

/** What a mode sets, in words. */
function Settings({ s }: { s: CurrentModeView['settings'] }) {
  return (
    <Descriptions size="small" column={4} data-testid="mode-settings">
      <Descriptions.Item label={t('em.mode.labMode', '检验时限')}>
        {s.labMode === 'emergency' ? t('em.mode.labEmergency', '应急标准') : t('em.mode.labRoutine', '常规标准')}
      </Descriptions.Item>
      <Descriptions.Item label={t('em.mode.deadline', '报告时限')}>
        {t('em.mode.hours', '{n} 小时', { n: s.reportDeadlineHours })}
      </Descriptions.Item>
      <Descriptions.Item label={t('em.mode.zero', '零报告')}>
        {s.zeroReporting === 'daily' ? t('em.mode.zeroDaily', '每日报告') : t('em.mode.zeroNone', '不要求')}
      </Descriptions.Item>
      <Descriptions.Item label={t('em.mode.ack', '调动确认时限')}>
        {t('em.mode.minutes', '{n} 分钟', { n: s.ackLimitMinutes })}
      </Descriptions.Item>
    </Descriptions>
  );
}

function LevelTag({ level }: { level: string | null }) {
  return (
    <Tag color={level ? LEVEL_COLOURS[level] : 'green'} data-testid="level-tag">
      {level ? t('em.mode.levelResponse', '{level}应急响应', { level: levelLabel(level) }) : levelLabel(null)}
    </Tag>
  );
}

interface StartValues {
  scope: 'district' | 'area';
  areaCode?: string;
  level: ModeLevel;
  reason: string;
  exercise: boolean;
}

function StartModal({
  open,
  active,
  current,
  onClose,
  onDone,
}: {
  open: boolean;
  active: ModeView[];
  current?: CurrentModeView;
  onClose(): void;
  onDone(): void;
}) {
  const [form] = Form.useForm<StartValues>();
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const { modal, message } = App.useApp();
  const scope = Form.useWatch('scope', form);
  useEffect(() => {
    if (open) {
      form.resetFields();
      setError(undefined);
    }
  }, [open, form]);
  const submit = async () => {
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    const areaCode = v.scope === 'area' ? v.areaCode!.trim() : undefined;
    const before = active.find((m) => (m.areaCode ?? undefined) === areaCode && m.exercise === v.exercise);
    const where = scopeLabel(areaCode);
    const ok = await modal.confirm({
      title: t('em.mode.confirmTitle', '确认切换应急状态'),
      okText: t('em.mode.confirmOk', '确认切换'),
      cancelText: t('em.cancel', '取消'),
      content: (
        <div data-testid="mode-confirm">
          <p>
            {t('em.mode.confirmChange', '{where}：{from} → {to}', {
              where,
              from: before ? levelLabel(before.level) : levelLabel(null),
              to: levelLabel(v.level),
            })}
          </p>
          <ul>
            {before && (
              <li>
                {t('em.mode.confirmEnds', '原{level}响应将结束，并以新级别替代（同一操作完成）', { level: levelLabel(before.level) })}
              </li>
            )}
            <li>{t('em.mode.confirmSettings', '该级别的检验时限、报告时限、调动确认时限和每日零报告要求随即对{where}生效', { where })}</li>
            {!areaCode && current && !current.emergency && (
              <li>
                {t('em.mode.confirmNow', '目前（常态）：报告时限 {h} 小时，调动确认时限 {m} 分钟', {
                  h: current.settings.reportDeadlineHours,
                  m: current.settings.ackLimitMinutes,
                })}
              </li>
            )}
            {v.exercise && <li>{t('em.mode.confirmExercise', '这是演练状态：不改变实际工作的时限')}</li>}
            <li>{t('em.mode.confirmAudit', '本次切换记入审计日志')}</li>
          </ul>
        </div>
      ),
    });
    if (!ok) return;
    setSaving(true);
    setError(undefined);
    try {
      await startMode({ ...(areaCode ? { areaCode } : {}), level: v.level, reason: v.reason.trim(), exercise: v.exercise });
      message.success(t('em.mode.started', '已切换为{level}应急响应', { level: levelLabel(v.level) }));
      onDone();
    } catch (e) {
      setError(refusal(e, { 409: t('em.mode.sameLevel', '已处于该级别') }));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('em.mode.startTitle', '启动或调整应急响应')}
      okText={t('em.mode.next', '下一步')}
      cancelText={t('em.cancel', '取消')}
      confirmLoading={saving}
      onOk={() => void submit()}
      onCancel={onClose}
      forceRender
    >
      <Form form={form} layout="vertical" initialValues={{ scope: 'district', exercise: false }} data-testid="start-mode-form">
        <Form.Item name="scope" label={t('em.mode.scope', '范围')}>
          <Radio.Group>
            <Radio value="district">{t('em.scope.all', '全区')}</Radio>
            <Radio value="area">{t('em.mode.byArea', '指定区域')}</Radio>
          </Radio.Group>
        </Form.Item>
        {scope === 'area' && (
          <Form.Item
            name="areaCode"
            label={t('em.mode.areaCode', '区划代码（6 位区县、9 位街道）')}
            rules={[
              { required: true, message: t('em.mode.areaRequired', '请填写区划代码') },
              { pattern: /^\s*\d{2,12}\s*$/, message: t('em.mode.areaPattern', '区划代码为 2–12 位数字') },
            ]}
          >
            <Input data-testid="mode-area" maxLength={12} />
          </Form.Item>
        )}
        <Form.Item
          name="level"
          label={t('em.mode.level', '响应级别')}
          rules={[{ required: true, message: t('em.mode.levelRequired', '请选择级别') }]}
        >
          <Select data-testid="mode-level" options={LEVELS.map((l) => ({ value: l, label: levelLabel(l) }))} />
        </Form.Item>
        <Form.Item
          name="reason"
          label={t('em.mode.reason', '原因')}
          rules={[{ required: true, whitespace: true, message: t('em.mode.reasonRequired', '请填写启动原因') }]}
        >
          <Input.TextArea data-testid="mode-reason" rows={2} maxLength={1000} />
        </Form.Item>
        <Form.Item name="exercise" label={t('em.mode.exercise', '演练（不影响实际时限）')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon message={error} data-testid="start-mode-error" />}
    </Modal>
  );
}

function EndModal({ mode, onClose, onDone }: { mode?: ModeView; onClose(): void; onDone(): void }) {
  const [reason, setReason] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const { message } = App.useApp();
  useEffect(() => {
    setReason('');
    setTouched(false);
    setError(undefined);
  }, [mode]);
  const submit = async () => {
    setTouched(true);
    if (!mode || !reason.trim()) return;
    setSaving(true);
    setError(undefined);
    try {
      await endMode(mode.id, reason.trim());
      message.success(t('em.mode.ended', '已结束应急响应，恢复常态'));
      onDone();
    } catch (e) {
      setError(refusal(e, { 409: t('em.mode.alreadyEnded', '该应急响应已结束') }));
    } finally {
      setSaving(false);
    }
  };
  const where = scopeLabel(mode?.areaCode);
  return (
    <Modal
      open={!!mode}
      title={t('em.mode.endTitle', '结束应急响应')}
      okText={t('em.mode.endOk', '确认结束')}
      okButtonProps={{ danger: true }}
      cancelText={t('em.cancel', '取消')}
      confirmLoading={saving}
      onOk={() => void submit()}
      onCancel={onClose}
    >
      {mode && (
        <div data-testid="end-mode-confirm">
          <p>{t('em.mode.confirmChange', '{where}：{from} → {to}', { where, from: levelLabel(mode.level), to: levelLabel(null) })}</p>
          <ul>
            <li>{t('em.mode.endEffects', '{where}恢复常态的检验时限、报告时限和调动确认时限', { where })}</li>
            <li>{t('em.mode.endZero', '不再因本次响应要求每日零报告')}</li>
            <li>{t('em.mode.confirmAudit', '本次切换记入审计日志')}</li>
          </ul>
        </div>
      )}
      <Input.TextArea
        data-testid="end-reason"
        rows={2}
        maxLength={1000}
        placeholder={t('em.mode.endReason', '结束原因（必填）')}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        status={touched && !reason.trim() ? 'error' : undefined}
      />
      {touched && !reason.trim() && <Typography.Text type="danger">{t('em.mode.endReasonRequired', '请填写结束原因')}</Typography.Text>}
      {error && <Alert type="error" showIcon message={error} style={{ marginTop: 12 }} data-testid="end-mode-error" />}
    </Modal>
  );
}

interface ReportValues {
  unit: string;
  counts: Record<string, number | null>;
  note?: string;
}

function ZeroReportModal({
  unit,
  open,
  names,
  onClose,
  onDone,
}: {
  unit?: string;
  open: boolean;
  names: Names;
  onClose(): void;
  onDone(): void;
}) {
  const [form] = Form.useForm<ReportValues>();
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const { message } = App.useApp();
  const today = todayInChina();
  useEffect(() => {
    if (open) {
      form.resetFields();
      form.setFieldsValue({ unit, counts: Object.fromEntries(REPORT_CATEGORIES().map((c) => [c.key, 0])) });
      setError(undefined);
    }
  }, [open, unit, form]);
  const submit = async () => {
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    setSaving(true);
    setError(undefined);
    try {
      const counts = Object.fromEntries(Object.entries(v.counts ?? {}).map(([k, n]) => [k, n ?? 0]));
      const r = await postZeroReport({ unit: v.unit, day: today, counts, ...(v.note?.trim() ? { note: v.note.trim() } : {}) });
      message.success(
        r.replaced
          ? t('em.zero.replaced', '已更新今日报告')
          : r.zero
            ? t('em.zero.savedZero', '已提交今日零报告')
            : t('em.zero.saved', '已提交今日报告'),
      );
      onDone();
    } catch (e) {
      setError(refusal(e));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('em.zero.formTitle', '填报今日报告（{day}）', { day: today })}
      okText={t('em.zero.submit', '提交')}
      cancelText={t('em.cancel', '取消')}
      confirmLoading={saving}
      onOk={() => void submit()}
      onCancel={onClose}
      forceRender
    >
      <Form form={form} layout="vertical" data-testid="zero-report-form">
        <Form.Item
          name="unit"
          label={t('em.move.unit', '单位')}
          rules={[{ required: true, message: t('em.move.unitRequired', '请选择单位') }]}
        >
          <Select data-testid="zero-unit" options={names.units.map((u) => ({ value: u.code, label: u.name }))} />
        </Form.Item>
        <Typography.Paragraph type="secondary">
          {t('em.zero.help', '各项均为 0 即为零报告；同一天再次提交将替换前一次。')}
        </Typography.Paragraph>
        <Space wrap>
          {REPORT_CATEGORIES().map((c) => (
            <Form.Item
              key={c.key}
              name={['counts', c.key]}
              label={c.label}
              rules={[
                {
                  validator: (_, v?: number | null) =>
                    v === undefined || v === null || (Number.isInteger(v) && v >= 0)
                      ? Promise.resolve()
                      : Promise.reject(new Error(t('em.zero.countInvalid', '须为不小于 0 的整数'))),
                },
              ]}
            >
              <InputNumber data-testid={`zero-count-${c.key}`} min={0} max={1_000_000} style={{ width: 130 }} />
            </Form.Item>
          ))}
        </Space>
        <Form.Item name="note" label={t('em.move.note', '备注')}>
          <Input.TextArea rows={2} maxLength={1000} />
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon message={error} data-testid="zero-report-error" />}
    </Modal>
  );
}

function ZeroReports({ names, tick, onReported }: { names: Names; tick: number; onReported(): void }) {
  const write = mayWrite();
  const [reporting, setReporting] = useState<{ unit?: string }>();
  const missing = useServerPage<MissingUnit, MissingList>((p, s) => missingReports(p, s), [tick]);
  const received = useServerPage<ZeroReportList['items'][number], ZeroReportList>(
    (p, s) => listZeroReports({ ...p, day: todayInChina() }, s),
    [tick],
    { pageSize: 10 },
  );
  const m = missing.data;
  const missingColumns: TableColumnsType<MissingUnit> = [
    { title: t('em.move.unit', '单位'), dataIndex: 'name' },
    { title: t('em.mode.scope', '范围'), key: 'area', render: (_, r) => (r.areaCode ? scopeLabel(r.areaCode) : '—') },
    {
      title: t('em.mode.level', '响应级别'),
      key: 'level',
      render: (_, r) => <Tag color={LEVEL_COLOURS[r.level]}>{levelLabel(r.level)}</Tag>,
    },
    ...(write
      ? [
          {
            title: t('em.actions', '操作'),
            key: 'report',
            render: (_: unknown, r: MissingUnit) => (
              <Button size="small" onClick={() => setReporting({ unit: r.unit })} data-testid="report-for-unit">
                {t('em.zero.reportFor', '填报')}
              </Button>
            ),
          },
        ]
      : []),
  ];
  const receivedColumns: TableColumnsType<ZeroReportList['items'][number]> = [
    { title: t('em.move.unit', '单位'), key: 'unit', render: (_, r) => names.unit(r.unit) },
    {
      title: t('em.zero.content', '报告内容'),
      key: 'counts',
      render: (_, r) =>
        r.zero ? (
          <Tag color="green">{t('em.zero.zero', '零报告')}</Tag>
        ) : (
          <Space size={4} wrap>
            {Object.entries(r.counts)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => (
                <Tag key={k} color="orange">
                  {categoryWord(k)} {n}
                </Tag>
              ))}
          </Space>
        ),
    },
    { title: t('em.zero.reportedAt', '报告时间'), key: 'at', render: (_, r) => chinaTime(r.reportedAt) },
    { title: t('em.zero.reportedBy', '报告人'), dataIndex: 'reportedBy' },
  ];
  return (
    <Card
      size="small"
      title={t('em.zero.heading', '今日零报告（{day}）', { day: m?.day ?? todayInChina() })}
      extra={
        write && (
          <Button type="primary" onClick={() => setReporting({})} data-testid="new-zero-report">
            {t('em.zero.new', '填报今日报告')}
          </Button>
        )
      }
    >
      {m && (
        <Typography.Paragraph data-testid="zero-summary">
          {m.required
            ? t('em.zero.summary', '应报 {required} 家，已报 {reported} 家，未报 {missing} 家', {
                required: m.required,
                reported: m.reported,
                missing: m.total,
              })
            : t('em.zero.notRequired', '目前没有单位处于需要每日零报告的应急响应中')}
        </Typography.Paragraph>
      )}
      {missing.error && <Alert type="error" showIcon message={missing.error} style={{ marginBottom: 12 }} />}
      <Typography.Title level={5}>{t('em.zero.missing', '今日未报单位')}</Typography.Title>
      <PagedTable
        list={missing}
        rowKey="unit"
        columns={missingColumns}
        data-testid="missing-table"
        total={(n) => t('em.zero.missingTotal', '共 {n} 家未报', { n })}
        sizeChanger
        onRow={() => ({ style: { background: '#fff1f0' } })}
      />
      <Typography.Title level={5}>{t('em.zero.received', '今日已收到的报告')}</Typography.Title>
      {received.error && <Alert type="error" showIcon message={received.error} style={{ marginBottom: 12 }} />}
      <PagedTable
        list={received}
        rowKey="unit"
        columns={receivedColumns}
        data-testid="received-table"
        total={(n) => t('em.zero.receivedTotal', '共 {n} 份报告', { n })}
        sizeChanger
      />
      <ZeroReportModal
        open={!!reporting}
        unit={reporting?.unit}
        names={names}
        onClose={() => setReporting(undefined)}
        onDone={() => {
          setReporting(undefined);
          onReported();
        }}
      />
    </Card>
  );
}

export function ModePage() {
  const names = useNames();
  const write = mayWrite();
  const [tick, setTick] = useState(0);
  const [current, setCurrent] = useState<CurrentModeView>();
  const [currentError, setCurrentError] = useState<string>();
  const [starting, setStarting] = useState(false);
  const [ending, setEnding] = useState<ModeView>();
  useEffect(() => {
    const ctrl = new AbortController();
    currentMode(undefined, ctrl.signal)
      .then((c) => {
        setCurrent(c);
        setCurrentError(undefined);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setCurrentError(refusal(e));
      });
    return () => ctrl.abort();
  }, [tick]);
  const active = useServerPage<ModeView, { items: ModeView[]; total: number }>((p, s) => listModes({ ...p, active: true }, s), [tick]);
  const changed = () => setTick((n) => n + 1);
  const columns: TableColumnsType<ModeView> = [
    { title: t('em.mode.scope', '范围'), key: 'scope', render: (_, r) => scopeLabel(r.areaCode) },
    {
      title: t('em.mode.level', '响应级别'),
      key: 'level',
      render: (_, r) => (
        <Space size={4}>
          <Tag color={LEVEL_COLOURS[r.level]}>{levelLabel(r.level)}</Tag>
          {r.exercise && <Tag color="purple">{t('em.exercise', '演练')}</Tag>}
        </Space>
      ),
    },
    { title: t('em.mode.since', '启动时间'), key: 'since', render: (_, r) => chinaTime(r.startedAt) },
    { title: t('em.mode.by', '启动人'), dataIndex: 'startedBy' },
    { title: t('em.mode.reason', '原因'), dataIndex: 'reason' },
    ...(write
      ? [
          {
            title: t('em.actions', '操作'),
            key: 'end',
            render: (_: unknown, r: ModeView) => (
              <Button size="small" danger onClick={() => setEnding(r)} data-testid="end-mode">
                {t('em.mode.end', '结束响应')}
              </Button>
            ),
          },
        ]
      : []),
  ];
  const cm = current?.mode;
  return (
    <div data-testid="emergency-mode">
      <PageHeader
        title={t('nav.emergencyMode', '应急状态与零报告')}
        crumbs={[{ title: t('nav.emergency', '应急管理') }, { title: t('nav.emergencyMode', '应急状态与零报告') }]}
        extra={
          write && (
            <Button type="primary" danger onClick={() => setStarting(true)} data-testid="start-mode">
              {t('em.mode.start', '启动/调整应急响应')}
            </Button>
          )
        }
      />
      {currentError && <Alert type="error" showIcon message={currentError} style={{ marginBottom: 16 }} />}
      <Card size="small" title={t('em.mode.current', '全区当前状态')} style={{ marginBottom: 16 }} data-testid="current-mode">
        {current && (
          <>
            <Space wrap style={{ marginBottom: 8 }}>
              <LevelTag level={current.level} />
              {cm && (
                <>
                  <span>{scopeLabel(cm.areaCode)}</span>
                  <span>{t('em.mode.startedBy', '{who} 于 {time} 启动', { who: cm.startedBy, time: chinaTime(cm.startedAt) })}</span>
                  <Typography.Text type="secondary">{cm.reason}</Typography.Text>
                </>
              )}
            </Space>
            <Settings s={current.settings} />
          </>
        )}
      </Card>
      <Card size="small" title={t('em.mode.active', '生效中的应急响应（全区及各区域）')} style={{ marginBottom: 16 }}>
        {active.error && <Alert type="error" showIcon message={active.error} style={{ marginBottom: 12 }} />}
        <PagedTable
          list={active}
          rowKey="id"
          columns={columns}
          data-testid="active-modes"
          total={(n) => t('em.mode.activeTotal', '共 {n} 项生效中的应急响应', { n })}
          sizeChanger
          locale={{ emptyText: t('em.mode.noneActive', '全区各区域均处于常态') }}
        />
      </Card>
      <ZeroReports names={names} tick={tick} onReported={changed} />
      <StartModal
        open={starting}
        active={active.data?.items ?? []}
        current={current}
        onClose={() => setStarting(false)}
        onDone={() => {
          setStarting(false);
          changed();
        }}
      />
      <EndModal
        mode={ending}
        onClose={() => setEnding(undefined)}
        onDone={() => {
          setEnding(undefined);
          changed();
        }}
      />
    </div>
  );
}
