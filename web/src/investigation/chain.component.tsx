/**
 * 传播链 and 隔离管理 tabs of an investigation. The chain is drawn by time: each person sits at the
 * day of their onset (a case) or last exposure (a contact), in the band of their cluster, with
 * arrows from whoever exposed them; cases are coloured by classification, contacts grey; a click
 * on a case opens its investigation. Below it the epi curve of the chain's cases, stacked by
 * classification, and the serial interval. The orders tab lists isolation and quarantine orders,
 * issues one for the case or a contact, revokes one with a reason and prints the notice.
 */
import { useEffect, useMemo, useState } from 'react';
import { Alert, App, Button, Empty, Form, Input, Modal, Select, Skeleton, Space, Statistic, Table, Tag, Typography } from 'antd';
import { isAbort } from '../api/http.js';
import { EChart } from '../charts/echart.component.js';
import type { EChartsOption } from '../charts/echarts.js';
import { t } from '../i18n/i18n.js';
import { navigate } from '../shell/router.js';
import { addDays } from '../../../src/shared/dates.js';
import { layoutChain, type ChainLayout } from '../../../src/shared/chain-layout.js';
import { DayInput } from './day-input.component.js';
import {
  getChain,
  issueOrder,
  listContacts,
  listOrders,
  revokeOrder,
  type ChainData,
  type Investigation,
  type Order,
  type OrderKind,
} from './investigation.resource.js';
import { chinaTime, classificationLabel, diseaseLabel } from './labels.js';
import { useNames } from './useNames.js';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Colours a reader can tell apart (Okabe–Ito palette, safe for colour-blind readers). */
export const CLASSIFICATION_COLOURS: Record<string, string> = {
  confirmed: '#D55E00',
  clinical: '#E69F00',
  suspected: '#0072B2',
  excluded: '#999999',
};
const CONTACT_COLOUR = '#BBBBBB';

const isContact = (chain: ChainData, i: number) => chain.groups[chain.nodes.group[i]!] === 'contact';

/** The words a person's tooltip shows, made when it is shown (not for ten thousand people up front). */
function personTip(chain: ChainData, i: number): string {
  const name = chain.nodes.name[i] ?? t('inv.chain.unnamed', '（未具名）');
  const day = addDays(chain.firstDay, chain.nodes.day[i]!);
  const contact = isContact(chain, i);
  const what = contact ? t('inv.chain.contact', '密切接触者') : classificationLabel(chain.groups[chain.nodes.group[i]!] ?? 'suspected');
  return `${name} · ${what}<br/>${contact ? t('inv.chain.lastExposure', '末次接触') : t('inv.chain.onset', '发病')} ${day} · ${t(
    'inv.chain.generation',
    '第 {n} 代',
    { n: chain.nodes.generation[i]! },
  )}`;
}

function chainOption(chain: ChainData, layout: ChainLayout): EChartsOption {
  const dayLabel = (v: number) => addDays(chain.firstDay, v).slice(5);
  if (chain.nodes.id.length > 2000) return bigChainOption(chain, layout, dayLabel);
  const { x, y } = layout;
  return {
    animation: false,
    tooltip: {
      formatter: (p: unknown) => {
        const d = p as { dataType?: string; data?: { name?: string }; dataIndex?: number };
        if (d.dataType === 'edge') {
          const type = chain.exposureTypes[chain.edges.type[d.dataIndex ?? -1] ?? -1];
          return type ?? '';
        }
        return d.data?.name ? personTip(chain, Number(d.data.name)) : '';
      },
    },
    grid: { left: 24, right: 24, top: 16, bottom: 40 },
    xAxis: {
      type: 'value',
      axisLabel: { formatter: dayLabel },
      splitLine: { show: true },
    },
    yAxis: { type: 'value', inverse: true, show: false },
    series: [
      {
        type: 'graph',
        coordinateSystem: 'cartesian2d',
        edgeSymbol: ['none', 'arrow'],
        edgeSymbolSize: 7,
        lineStyle: { color: '#8c8c8c', width: 1, opacity: 0.7 },
        emphasis: { focus: 'adjacency' },
        data: chain.nodes.id.map((_, i) => {
          const contact = isContact(chain, i);
          return {
            name: String(i),
            value: [x[i], y[i]],
            symbol: contact ? 'rect' : 'circle',
            symbolSize: contact ? 9 : 14,
            itemStyle: { color: contact ? CONTACT_COLOUR : CLASSIFICATION_COLOURS[chain.groups[chain.nodes.group[i]!]!] },
            label: { show: !contact, position: 'right', formatter: chain.nodes.name[i] ?? '' },
          };
        }),
        links: chain.edges.from.map((from, j) => ({ source: from, target: chain.edges.to[j]! })),
      },
    ],
  } as EChartsOption;
}

/**
 * A chain of thousands: the graph series lays out and hit-tests every node and edge on each frame,
 * so big chains are drawn as ECharts' large-mode lines (one flat array of coordinates) and scatter
 * (one series per colour, each point [x, y, person]); cases carry their person as the item name,
 * so a click on a case still opens its investigation.
 */
function bigChainOption(chain: ChainData, { x, y }: ChainLayout, dayLabel: (v: number) => string): EChartsOption {
  const { from, to } = chain.edges;
  // Flat coordinates as the lines series reads them: [points, x1, y1, x2, y2] per edge.
  const coords = new Float64Array(from.length * 5);
  for (let j = 0; j < from.length; j++) {
    const a = from[j]!;
    const b = to[j]!;
    coords.set([2, x[a]!, y[a]!, x[b]!, y[b]!], j * 5);
  }
  const members = chain.groups.map(() => [] as number[]);
  for (let i = 0; i < chain.nodes.group.length; i++) members[chain.nodes.group[i]!]?.push(i);
  return {
    animation: false,
    tooltip: {
      formatter: (p: unknown) => {
        const v = (p as { value?: unknown }).value;
        return Array.isArray(v) && typeof v[2] === 'number' ? personTip(chain, v[2]) : '';
      },
    },
    grid: { left: 24, right: 24, top: 16, bottom: 40 },
    xAxis: {
      type: 'value',
      axisLabel: { formatter: dayLabel },
    },
    yAxis: { type: 'value', inverse: true, show: false },
    series: [
      {
        type: 'lines',
        coordinateSystem: 'cartesian2d',
        large: true,
        progressive: 0,
        silent: true,
        lineStyle: { color: '#8c8c8c', width: 0.5, opacity: 0.5 },
        // A typed array is taken as flat coordinates only with its dimensions named.
        dimensions: ['value'],
        data: coords,
      },
      // Contacts first, so cases are drawn over them.
      ...[...chain.groups.keys()]
        .sort((a, b) => Number(chain.groups[b] === 'contact') - Number(chain.groups[a] === 'contact'))
        .flatMap((code) => {
          const g = chain.groups[code]!;
          const list = members[code]!;
          if (!list.length) return [];
          const contact = g === 'contact';
          return [
            {
              type: 'scatter',
              large: list.length > 500,
              progressive: 0,
              symbol: contact ? 'rect' : 'circle',
              symbolSize: contact ? 3 : 5,
              itemStyle: { color: contact ? CONTACT_COLOUR : CLASSIFICATION_COLOURS[g] },
              data: contact ? list.map((i) => [x[i], y[i], i]) : list.map((i) => ({ name: String(i), value: [x[i], y[i], i] })),
            },
          ];
        }),
    ],
  } as EChartsOption;
}

function curveOption(chain: ChainData): EChartsOption {
  const order = ['confirmed', 'clinical', 'suspected', 'excluded'] as const;
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 32 },
    xAxis: { type: 'category', data: chain.epiCurve.map((d) => d.day.slice(5)) },
    yAxis: { type: 'value', minInterval: 1, name: t('inv.chain.cases', '病例数') },
    series: order.map((k) => ({
      type: 'bar',
      stack: 'cases',
      name: classificationLabel(k),
      itemStyle: { color: CLASSIFICATION_COLOURS[k] },
      data: chain.epiCurve.map((d) => d[k]),
    })),
  } as EChartsOption;
}

export function ChainTab({ investigationId }: { investigationId: number }) {
  const [chain, setChain] = useState<ChainData>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    getChain(investigationId, ctrl.signal)
      .then(setChain)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(errorText(e));
      });
    return () => ctrl.abort();
  }, [investigationId]);
  const layout = useMemo(() => (chain ? layoutChain(chain.nodes) : undefined), [chain]);
  const graph = useMemo(() => (chain && layout ? chainOption(chain, layout) : undefined), [chain, layout]);
  const curve = useMemo(() => (chain ? curveOption(chain) : undefined), [chain]);
  if (error) return <Alert type="error" showIcon message={error} />;
  if (!chain || !graph || !curve) return <Skeleton active />;
  const si = chain.stats.serialInterval;
  return (
    <div data-testid="chain">
      <Space size={32} wrap style={{ marginBottom: 12 }}>
        <Statistic title={t('inv.chain.caseCount', '病例')} value={chain.stats.cases} />
        <Statistic title={t('inv.chain.contactCount', '密切接触者')} value={chain.stats.contacts} />
        <Statistic title={t('inv.chain.generations', '传播代数')} value={chain.stats.generations} />
        <Statistic
          title={t('inv.chain.serial', '代间隔（天）')}
          value={
            si ? t('inv.chain.serialValue', '均值 {mean}，中位数 {median}（n={n}）', { mean: si.mean, median: si.median, n: si.n }) : '—'
          }
        />
      </Space>
      {chain.truncated && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 8 }}
          message={t('inv.chain.truncated', '人数超过 10,000，仅绘出最早的 10,000 人')}
        />
      )}
      {chain.namesWithheld > 0 && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 8 }}
          message={t('inv.chain.withheld', '{n} 人超出您的授权范围，图中不显示姓名', { n: chain.namesWithheld })}
        />
      )}
      <Space size={12} wrap style={{ marginBottom: 4 }}>
        {(['confirmed', 'clinical', 'suspected', 'excluded'] as const).map((k) => (
          <Tag key={k} color={CLASSIFICATION_COLOURS[k]}>
            {classificationLabel(k)}
          </Tag>
        ))}
        <Tag color={CONTACT_COLOUR}>{t('inv.chain.contactLegend', '密切接触者（方块）')}</Tag>
        <Typography.Text type="secondary">{t('inv.chain.hint', '横轴为发病或末次接触日期；点击病例打开其调查')}</Typography.Text>
      </Space>
      <ChainGraph option={graph} chain={chain} rows={layout!.rows} />
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('inv.chain.curve', '流行曲线（按发病日期）')}
      </Typography.Title>
      {chain.epiCurve.length ? (
        <EChart option={curve} height={220} testId="epi-curve" ariaLabel={t('inv.chain.curve', '流行曲线（按发病日期）')} />
      ) : (
        <Empty description={t('inv.chain.noOnset', '尚无病例')} />
      )}
    </div>
  );
}

/** The chart with click-through: a case (its item named by its person index) opens its investigation. */
function ChainGraph({ option, chain, rows }: { option: EChartsOption; chain: ChainData; rows: number }) {
  // rows counts a free row after the last band: the drawing needs rows − 1.
  const height = Math.min(900, Math.max(260, 28 * (rows - 1)));
  return (
    <EChart
      option={option}
      height={height}
      testId="chain-graph"
      ariaLabel={t('inv.chain.title', '传播链')}
      onClick={(name) => {
        const i = Number(name);
        if (Number.isInteger(i) && i >= 0 && i < chain.nodes.id.length && !isContact(chain, i))
          navigate(`/investigation/${chain.nodes.id[i]}`);
      }}
    />
  );
}

// ---------------------------------------------------------------------------------------------
// Orders

export const orderKindLabel = (kind: string): string =>
  ({
    isolation: t('inv.order.isolation', '隔离治疗'),
    quarantine: t('inv.order.quarantine', '集中隔离医学观察'),
    'home-observation': t('inv.order.home', '居家医学观察'),
  })[kind] ?? kind;

/** A printable notice (告知书) in a new window: who, where, from when to when, why, by whom. */
function printNotice(order: Order, person: string, inv: Investigation) {
  const w = window.open('', '_blank', 'noopener=no,width=720,height=900');
  if (!w) return;
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  w.document.write(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(orderKindLabel(order.kind))}告知书</title>
<style>body{font-family:"Noto Sans CJK SC",sans-serif;margin:48px;line-height:2}h1{text-align:center;font-size:22px}.sign{margin-top:64px;text-align:right}</style></head>
<body><h1>${esc(orderKindLabel(order.kind))}告知书</h1>
<p>${esc(person)}：</p>
<p>根据《中华人民共和国传染病防治法》有关规定，经流行病学调查（${esc(diseaseLabel(inv.diseaseKey, inv.diseaseName))}），请您自
${esc(order.startDate)} 起至 ${esc(order.endDate)} 止，在 ${esc(order.place)} 接受${esc(orderKindLabel(order.kind))}。</p>
<p>事由：${esc(order.reason)}</p>
<p>期间请配合每日健康监测；如出现发热、咳嗽、皮疹、腹泻等症状，请立即告知社区卫生服务中心。</p>
<p class="sign">签发人：${esc(order.issuedBy)}<br/>签发时间：${esc(chinaTime(order.issuedAt))}<br/>通知书编号：${order.id}</p>
<script>window.print()</script></body></html>`);
  w.document.close();
}

export function OrdersTab({ inv, readOnly }: { inv: Investigation; readOnly: boolean }) {
  const [orders, setOrders] = useState<Order[]>();
  const [contacts, setContacts] = useState<{ id: number; patientId: string | null; name: string | null }[]>([]);
  const [error, setError] = useState<string>();
  const [issuing, setIssuing] = useState(false);
  const [revoking, setRevoking] = useState<Order>();
  const [revokeReason, setRevokeReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const [form] = Form.useForm();
  const { message } = App.useApp();
  useEffect(() => {
    const ctrl = new AbortController();
    Promise.all([listOrders(inv.id, ctrl.signal), listContacts(inv.id, ctrl.signal)])
      .then(([o, c]) => {
        setOrders(o.items);
        setContacts([
          ...c.items.map((k) => ({ id: k.id, patientId: k.patientId, name: null })),
          ...c.outOfDistrict.map((k) => ({ id: k.id, patientId: null, name: k.name })),
        ]);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(errorText(e));
      });
    return () => ctrl.abort();
  }, [inv.id, refresh]);
  const names = useNames([
    inv.patientId,
    ...contacts.flatMap((c) => (c.patientId ? [c.patientId] : [])),
    ...(orders ?? []).flatMap((o) => (o.patientId ? [o.patientId] : [])),
  ]);
  const personOf = (o: Order) => (o.patientId ? names.resident(o.patientId) : (o.personName ?? '—'));

  const submit = async () => {
    const v = (await form.validateFields().catch(() => undefined)) as
      { person: string; kind: OrderKind; place: string; startDate: string; endDate: string; reason: string } | undefined;
    if (!v) return;
    setBusy(true);
    try {
      await issueOrder(inv.id, {
        ...(v.person === 'case' ? {} : { contactId: Number(v.person) }),
        kind: v.kind,
        place: v.place.trim(),
        startDate: v.startDate,
        endDate: v.endDate,
        reason: v.reason.trim(),
      });
      message.success(t('inv.order.issued', '通知书已签发'));
      setIssuing(false);
      form.resetFields();
      setRefresh((n) => n + 1);
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (error) return <Alert type="error" showIcon message={error} />;
  if (!orders) return <Skeleton active />;
  return (
    <div data-testid="orders">
      {!readOnly && (
        <Button type="primary" style={{ marginBottom: 12 }} onClick={() => setIssuing(true)} data-testid="order-new">
          {t('inv.order.new', '签发隔离/医学观察通知书')}
        </Button>
      )}
      <Table<Order>
        rowKey="id"
        size="small"
        dataSource={orders}
        pagination={{ pageSize: 20, showTotal: (n) => t('inv.order.total', '共 {n} 份', { n }) }}
        locale={{ emptyText: t('inv.order.none', '尚未签发通知书') }}
        columns={[
          { title: t('inv.order.person', '对象'), key: 'person', render: (_, o) => personOf(o) },
          { title: t('inv.order.kind', '类型'), dataIndex: 'kind', render: (k: string) => orderKindLabel(k) },
          { title: t('inv.order.place', '地点'), dataIndex: 'place' },
          { title: t('inv.order.period', '期限'), key: 'period', render: (_, o) => `${o.startDate} ～ ${o.endDate}` },
          {
            title: t('inv.order.status', '状态'),
            key: 'status',
            render: (_, o) =>
              o.status === 'active' ? (
                <Tag color="processing">{t('inv.order.active', '生效中')}</Tag>
              ) : (
                <Tag>{t('inv.order.revoked', '已撤销：{reason}', { reason: o.revokeReason ?? '' })}</Tag>
              ),
          },
          {
            title: t('inv.order.actions', '操作'),
            key: 'actions',
            render: (_, o) => (
              <Space>
                <Button size="small" onClick={() => printNotice(o, personOf(o), inv)}>
                  {t('inv.order.print', '打印告知书')}
                </Button>
                {o.status === 'active' && !readOnly && (
                  <Button size="small" danger onClick={() => setRevoking(o)}>
                    {t('inv.order.revoke', '撤销')}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={issuing}
        title={t('inv.order.new', '签发隔离/医学观察通知书')}
        okText={t('inv.order.issue', '签发')}
        cancelText={t('inv.cancel', '取消')}
        confirmLoading={busy}
        onCancel={() => setIssuing(false)}
        onOk={() => void submit()}
        forceRender
      >
        <Form form={form} layout="vertical" initialValues={{ person: 'case', kind: 'isolation' }}>
          <Form.Item name="person" label={t('inv.order.person', '对象')} rules={[{ required: true }]}>
            <Select
              options={[
                { value: 'case', label: t('inv.order.theCase', '病例本人：{name}', { name: names.resident(inv.patientId) }) },
                ...contacts.map((c) => ({
                  value: String(c.id),
                  label: t('inv.order.theContact', '密接：{name}', { name: c.patientId ? names.resident(c.patientId) : (c.name ?? '') }),
                })),
              ]}
            />
          </Form.Item>
          <Form.Item name="kind" label={t('inv.order.kind', '类型')} rules={[{ required: true }]}>
            <Select
              options={(['isolation', 'quarantine', 'home-observation'] as const).map((k) => ({ value: k, label: orderKindLabel(k) }))}
            />
          </Form.Item>
          <Form.Item
            name="place"
            label={t('inv.order.place', '地点')}
            rules={[{ required: true, whitespace: true, message: t('inv.order.placeNeeded', '请填写地点') }]}
          >
            <Input maxLength={200} />
          </Form.Item>
          <Space>
            <Form.Item
              name="startDate"
              label={t('inv.order.start', '开始日期')}
              rules={[{ required: true, message: t('inv.order.dateNeeded', '请选择日期') }]}
            >
              <DayInput />
            </Form.Item>
            <Form.Item
              name="endDate"
              label={t('inv.order.end', '结束日期')}
              dependencies={['startDate']}
              rules={[
                { required: true, message: t('inv.order.dateNeeded', '请选择日期') },
                ({ getFieldValue }) => ({
                  validator: (_, value: string | undefined) =>
                    !value || !getFieldValue('startDate') || value >= (getFieldValue('startDate') as string)
                      ? Promise.resolve()
                      : Promise.reject(new Error(t('inv.order.endBeforeStart', '结束日期不能早于开始日期'))),
                }),
              ]}
            >
              <DayInput />
            </Form.Item>
          </Space>
          <Form.Item
            name="reason"
            label={t('inv.order.reason', '事由')}
            rules={[{ required: true, whitespace: true, message: t('inv.order.reasonNeeded', '请填写事由') }]}
          >
            <Input.TextArea rows={2} maxLength={1000} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={!!revoking}
        title={t('inv.order.revokeTitle', '撤销通知书')}
        okText={t('inv.order.revoke', '撤销')}
        cancelText={t('inv.cancel', '取消')}
        okButtonProps={{ danger: true, disabled: !revokeReason.trim() }}
        confirmLoading={busy}
        onCancel={() => setRevoking(undefined)}
        onOk={async () => {
          if (!revoking) return;
          setBusy(true);
          try {
            await revokeOrder(revoking.id, revokeReason.trim());
            setRevoking(undefined);
            setRevokeReason('');
            setRefresh((n) => n + 1);
          } catch (e) {
            message.error(errorText(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Input.TextArea
          rows={2}
          maxLength={1000}
          value={revokeReason}
          placeholder={t('inv.order.revokeReason', '撤销原因，如：提前解除、信息有误')}
          onChange={(e) => setRevokeReason(e.target.value)}
        />
      </Modal>
    </div>
  );
}
