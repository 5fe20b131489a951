/**
 * 演练 (#/emergency/drills): the drills, paged with the total; 新建演练 records one (its name,
 * when, the teams it mobilises); 开始演练 runs a planned one after a confirm; a drill's after-action
 * report (#/emergency/drills/:id) lists each step with start, end, duration and target — late
 * steps in red, skipped steps with the reason — and the summary.
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
  Modal,
  Select,
  Space,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PagedTable, useServerPage } from '../shared/paged-table.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import { navigate } from '../shell/router.js';
import {
  createDrill,
  getDrill,
  listDrills,
  listTeams,
  runDrill,
  type DrillListRow,
  type DrillStepView,
  type DrillView,
  type TeamView,
} from './emergency.resource.js';
import {
  chinaClock,
  chinaTime,
  DRILL_COLOURS,
  drillStatusLabel,
  duration,
  mayWrite,
  refusal,
  STEP_COLOURS,
  stepLabel,
  stepReason,
  stepStatusLabel,
  teamKindLabel,
} from './labels.js';

const crumbs = (extra: { title: string; href?: string }[] = []) => [
  { title: t('nav.emergency', '应急管理') },
  { title: t('nav.emergencyDrills', '演练'), ...(extra.length ? { href: '#/emergency/drills' } : {}) },
  ...extra,
];

function NewDrill({ open, onClose, onCreated }: { open: boolean; onClose(): void; onCreated(d: DrillView): void }) {
  const [form] = Form.useForm<{ name: string; teamIds: number[] }>();
  const [teams, setTeams] = useState<TeamView[]>([]);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!open) return;
    form.resetFields();
    setError(undefined);
    const ctrl = new AbortController();
    listTeams({ limit: 200, offset: 0 }, ctrl.signal)
      .then((l) => setTeams(l.items))
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e));
      });
    return () => ctrl.abort();
  }, [open, form]);
  const submit = async () => {
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    setSaving(true);
    setError(undefined);
    try {
      onCreated(await createDrill({ name: v.name.trim(), teamIds: v.teamIds ?? [] }));
    } catch (e) {
      setError(refusal(e));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('em.drill.newTitle', '新建演练')}
      okText={t('em.drill.create', '新建')}
      cancelText={t('em.cancel', '取消')}
      confirmLoading={saving}
      onOk={() => void submit()}
      onCancel={onClose}
      forceRender
    >
      <Form form={form} layout="vertical" data-testid="new-drill-form">
        <Form.Item
          name="name"
          label={t('em.drill.name', '演练名称')}
          rules={[{ required: true, whitespace: true, message: t('em.drill.nameRequired', '请填写演练名称') }]}
        >
          <Input data-testid="drill-name" maxLength={200} />
        </Form.Item>
        <Form.Item
          name="teamIds"
          label={t('em.drill.teams', '参演队伍（按演练调动，不计入实际工作）')}
          rules={[{ type: 'array', max: 20, message: t('em.drill.teamsMax', '最多 20 支队伍') }]}
        >
          <Select
            mode="multiple"
            data-testid="drill-teams"
            options={teams.map((tm) => ({ value: tm.id, label: `${tm.name}（${teamKindLabel(tm.kind)}）` }))}
          />
        </Form.Item>
        <Typography.Text type="secondary">
          {t(
            'em.drill.scenarioHelp',
            '演练在虚拟区域注入一例霍乱报告，依次计时：预警生成、队伍调动、流行病学调查、标本采集与送检、检测结果。',
          )}
        </Typography.Text>
      </Form>
      {error && <Alert type="error" showIcon message={error} data-testid="new-drill-error" style={{ marginTop: 12 }} />}
    </Modal>
  );
}

/** Runs a planned drill after a confirm; answers the drill with its report. */
function useRun(onDone: (d: DrillView) => void) {
  const { modal, message } = App.useApp();
  const [running, setRunning] = useState<number>();
  const [error, setError] = useState<string>();
  const run = async (d: { id: number; name: string }) => {
    const ok = await modal.confirm({
      title: t('em.drill.runTitle', '开始演练“{name}”？', { name: d.name }),
      content: t('em.drill.runContent', '将以演练数据走一遍实际流程并计时，演练产生的预警、调动均标记为演练。每次演练只能运行一次。'),
      okText: t('em.drill.run', '开始演练'),
      cancelText: t('em.cancel', '取消'),
    });
    if (!ok) return;
    setRunning(d.id);
    setError(undefined);
    try {
      const done = await runDrill(d.id);
      message.success(t('em.drill.ran', '演练已完成，已生成总结报告'));
      onDone(done);
    } catch (e) {
      setError(refusal(e, { 409: t('em.drill.notPlanned', '该演练已运行过') }));
    } finally {
      setRunning(undefined);
    }
  };
  return { run, running, error };
}

export function DrillsPage() {
  const [creating, setCreating] = useState(false);
  const write = mayWrite();
  const list = useServerPage<DrillListRow>((p, s) => listDrills(p, s), []);
  const { run, running, error } = useRun((d) => navigate(`/emergency/drills/${d.id}`));
  const columns: TableColumnsType<DrillListRow> = [
    {
      title: t('em.drill.name', '演练名称'),
      key: 'name',
      render: (_, r) => (
        <a href={`#/emergency/drills/${r.id}`} data-testid="drill-link">
          {r.name}
        </a>
      ),
    },
    {
      title: t('em.drill.status', '状态'),
      key: 'status',
      render: (_, r) => (
        <Tag color={DRILL_COLOURS[r.status]} data-testid="drill-status">
          {drillStatusLabel(r.status)}
        </Tag>
      ),
    },
    { title: t('em.drill.createdAt', '创建时间'), key: 'created', render: (_, r) => chinaTime(r.createdAt) },
    { title: t('em.drill.startedAt', '开始时间'), key: 'started', render: (_, r) => chinaTime(r.startedAt) },
    { title: t('em.drill.createdBy', '创建人'), dataIndex: 'createdBy' },
    {
      title: t('em.actions', '操作'),
      key: 'actions',
      render: (_, r) =>
        r.status === 'planned' ? (
          write && (
            <Button size="small" type="primary" loading={running === r.id} onClick={() => void run(r)} data-testid="run-drill">
              {t('em.drill.run', '开始演练')}
            </Button>
          )
        ) : (
          <a href={`#/emergency/drills/${r.id}`}>{t('em.drill.report', '查看总结报告')}</a>
        ),
    },
  ];
  return (
    <div data-testid="emergency-drills">
      <PageHeader
        title={t('nav.emergencyDrills', '演练')}
        crumbs={crumbs()}
        extra={
          write && (
            <Button type="primary" onClick={() => setCreating(true)} data-testid="new-drill">
              {t('em.drill.new', '新建演练')}
            </Button>
          )
        }
      />
      {(error || list.error) && (
        <Alert type="error" showIcon message={error ?? list.error} style={{ marginBottom: 16 }} data-testid="drills-error" />
      )}
      <Card size="small">
        <PagedTable
          list={list}
          rowKey="id"
          columns={columns}
          data-testid="drills-table"
          total={(n) => t('em.drill.total', '共 {n} 次演练', { n })}
          sizeChanger
        />
      </Card>
      <NewDrill
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={() => {
          setCreating(false);
          list.reload();
        }}
      />
    </div>
  );
}

/** The after-action report of a drill: steps timed against their targets. */
export function DrillReportPage({ id }: { id: number }) {
  const [drill, setDrill] = useState<DrillView>();
  const [error, setError] = useState<string>();
  const write = mayWrite();
  const { run, running, error: runError } = useRun(setDrill);
  useEffect(() => {
    const ctrl = new AbortController();
    getDrill(id, ctrl.signal)
      .then(setDrill)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e, { 404: t('em.drill.notFound', '没有这次演练') }));
      });
    return () => ctrl.abort();
  }, [id]);
  const report = drill?.report;
  const columns: TableColumnsType<DrillStepView> = [
    { title: t('em.drill.step', '步骤'), key: 'step', render: (_, r) => stepLabel(r.step) },
    {
      title: t('em.drill.stepStatus', '结果'),
      key: 'status',
      render: (_, r) => (
        <Space size={4}>
          <Tag color={STEP_COLOURS[r.status]}>{stepStatusLabel(r.status)}</Tag>
          {r.late && <Tag color="red">{t('em.drill.late', '超时')}</Tag>}
        </Space>
      ),
    },
    { title: t('em.drill.stepStart', '开始'), key: 'start', render: (_, r) => chinaClock(r.startedAt) },
    { title: t('em.drill.stepEnd', '结束'), key: 'end', render: (_, r) => chinaClock(r.endedAt) },
    {
      title: t('em.drill.duration', '用时'),
      key: 'duration',
      render: (_, r) => (
        <span data-testid="step-duration" style={r.late ? { color: '#cf1322', fontWeight: 600 } : undefined}>
          {duration(r.durationMs)}
        </span>
      ),
    },
    { title: t('em.drill.target', '目标'), key: 'target', render: (_, r) => duration(r.targetMs) },
    {
      title: t('em.drill.note', '说明'),
      key: 'detail',
      render: (_, r) =>
        r.status === 'done' ? (
          r.late ? (
            <Typography.Text type="danger">
              {t('em.drill.lateBy', '超出目标 {d}', { d: duration((r.durationMs ?? 0) - r.targetMs) })}
            </Typography.Text>
          ) : (
            <Typography.Text type="secondary">{t('em.drill.inTime', '在目标时间内')}</Typography.Text>
          )
        ) : (
          <Typography.Text type={r.status === 'failed' ? 'danger' : 'secondary'} data-testid="step-reason">
            <span title={r.detail}>{stepReason(r.detail)}</span>
          </Typography.Text>
        ),
    },
  ];
  const title = drill?.name ?? t('em.drill.reportTitle', '演练总结报告');
  return (
    <div data-testid="drill-report">
      <PageHeader title={title} crumbs={crumbs([{ title }])} />
      {(error || runError) && <Alert type="error" showIcon message={error ?? runError} style={{ marginBottom: 16 }} />}
      {drill && (
        <Card size="small" style={{ marginBottom: 16 }}>
          <Descriptions size="small" column={4}>
            <Descriptions.Item label={t('em.drill.status', '状态')}>
              <Tag color={DRILL_COLOURS[drill.status]}>{drillStatusLabel(drill.status)}</Tag>
              <Tag color="purple">{t('em.exercise', '演练')}</Tag>
            </Descriptions.Item>
            <Descriptions.Item label={t('em.drill.createdBy', '创建人')}>{drill.createdBy}</Descriptions.Item>
            <Descriptions.Item label={t('em.drill.startedAt', '开始时间')}>{chinaTime(drill.startedAt)}</Descriptions.Item>
            <Descriptions.Item label={t('em.drill.totalTime', '总用时')}>{report ? duration(report.totalMs) : '—'}</Descriptions.Item>
          </Descriptions>
          {drill.status === 'planned' && write && (
            <Button type="primary" loading={running === drill.id} onClick={() => void run(drill)} data-testid="run-drill">
              {t('em.drill.run', '开始演练')}
            </Button>
          )}
        </Card>
      )}
      {report && (
        <Card size="small" title={t('em.drill.reportTitle', '演练总结报告')}>
          <Typography.Paragraph data-testid="drill-summary">
            {t('em.drill.summary', '共 {n} 个步骤：完成 {done}，超时 {late}，跳过 {skipped}，失败 {failed}；总用时 {total}。', {
              n: report.steps.length,
              done: report.steps.filter((s) => s.status === 'done').length,
              late: report.late.length,
              skipped: report.skipped.length,
              failed: report.failed.length,
              total: duration(report.totalMs),
            })}
            {report.late.length > 0 && (
              <Typography.Text type="danger">
                {t('em.drill.lateSteps', ' 超时步骤：{steps}。', { steps: report.late.map(stepLabel).join('、') })}
              </Typography.Text>
            )}
          </Typography.Paragraph>
          <Table
            rowKey="step"
            size="small"
            columns={columns}
            dataSource={report.steps}
            pagination={false}
            data-testid="steps-table"
            onRow={(r) => ({ style: r.late ? { background: '#fff1f0' } : undefined, 'data-late': r.late ? 'true' : 'false' }) as object}
          />
        </Card>
      )}
      {drill && !report && drill.status !== 'planned' && (
        <Alert type="info" showIcon message={t('em.drill.noReport', '演练尚未生成总结报告')} />
      )}
    </div>
  );
}
