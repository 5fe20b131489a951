/**
 * 物资储备 (#/emergency/reserves): per unit and item the days of cover in an emergency scenario
 * against the standard (30 days; a red bar when below), the stock by batch with expiry, the
 * warnings (below standard, expiring within 90 or 30 days, expired) and the movements; 入库,
 * 出库 and 调拨 forms for those who may write.
 */
import { useState } from 'react';
import {
  Alert,
  Button,
  Card,
  Empty,
  Pagination,
  Progress,
  Select,
  Space,
  Spin,
  Switch,
  Table,
  Tabs,
  Tag,
  Tooltip,
  Typography,
  type TableColumnsType,
} from 'antd';
import { t } from '../i18n/i18n.js';
import { pageControls, PagedTable, useServerPage } from '../shared/paged-table.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import { navigate } from '../shell/router.js';
import {
  listCover,
  listMovements,
  listStock,
  listWarnings,
  type BatchView,
  type CoverRow,
  type MovementView,
  type ReserveWarning,
  type UnitCover,
} from './emergency.resource.js';
import { useNames, type Names } from './hooks.js';
import { MovementModal, type MovementFormKind } from './movement-form.component.js';
import { categoryLabel, chinaTime, EXPIRY_COLOURS, expiryLabel, mayWrite, movementLabel, qty, warningKindLabel } from './labels.js';

function UnitFilter({ names, value, onChange }: { names: Names; value?: string; onChange(v?: string): void }) {
  return (
    <Select
      allowClear
      data-testid="reserve-unit-filter"
      style={{ width: 220 }}
      placeholder={t('em.filter.allUnits', '全部单位')}
      value={value}
      onChange={onChange}
      options={names.units.map((u) => ({ value: u.code, label: u.name }))}
    />
  );
}

/** Days of cover as a bar against the standard: red below it, green at or above. */
export function CoverBar({ row, standardDays }: { row: CoverRow; standardDays: number }) {
  if (row.emergencyDays === null) return <Typography.Text type="secondary">{t('em.cover.noUse', '该单位不需储备此物资')}</Typography.Text>;
  const days = Math.floor(row.emergencyDays * 10) / 10;
  return (
    <Space size={8} data-testid="cover-days" data-below={row.meetsStandard ? 'false' : 'true'} style={{ width: '100%' }}>
      <Progress
        percent={Math.min(100, (row.emergencyDays / standardDays) * 100)}
        showInfo={false}
        status={row.meetsStandard ? 'success' : 'exception'}
        strokeColor={row.meetsStandard ? '#389e0d' : '#cf1322'}
        style={{ width: 140, margin: 0 }}
      />
      <span style={row.meetsStandard ? undefined : { color: '#cf1322', fontWeight: 600 }}>{t('em.cover.days', '{n} 天', { n: days })}</span>
      {!row.meetsStandard && (
        <Tag color="red">{t('em.cover.short', '缺 {n}{uom}', { n: qty(Math.ceil(row.shortfall)), uom: row.uom })}</Tag>
      )}
    </Space>
  );
}

function CoverTab({ names }: { names: Names }) {
  const [unit, setUnit] = useState<string>();
  const [below, setBelow] = useState(false);
  const list = useServerPage<UnitCover>((p, s) => listCover({ ...p, unit, belowStandard: below || undefined }, s), [unit, below], {
    pageSize: 10,
  });
  const columns = (standardDays: number): TableColumnsType<CoverRow> => [
    { title: t('em.cover.item', '物资'), dataIndex: 'name' },
    { title: t('em.cover.stock', '可用库存'), key: 'stock', render: (_, r) => `${qty(r.stock)} ${r.uom}` },
    {
      title: t('em.cover.observed', '近 30 天日均消耗'),
      key: 'observed',
      render: (_, r) => `${qty(Math.round(r.observedDailyUse * 10) / 10)} ${r.uom}`,
    },
    { title: t('em.cover.scenario', '应急情景日用量'), key: 'scenario', render: (_, r) => `${qty(r.scenarioDailyUse)} ${r.uom}` },
    {
      title: (
        <Tooltip title={t('em.cover.basisHelp', '按应急情景日用量与实际日均消耗中较大者计算')}>
          {t('em.cover.days.title', '可保障天数（标准 {n} 天）', { n: standardDays })}
        </Tooltip>
      ),
      key: 'days',
      width: 330,
      render: (_, r) => <CoverBar row={r} standardDays={standardDays} />,
    },
    {
      title: t('em.cover.basis', '计算依据'),
      key: 'basis',
      render: (_, r) => (r.rateBasis === 'observed' ? t('em.cover.byObserved', '实际消耗') : t('em.cover.byScenario', '情景用量')),
    },
  ];
  return (
    <Card size="small">
      <Space style={{ marginBottom: 12 }} wrap>
        <Typography.Text>{t('em.filter.unit', '单位')}</Typography.Text>
        <UnitFilter names={names} value={unit} onChange={setUnit} />
        <Switch checked={below} onChange={setBelow} data-testid="below-only" />
        <Typography.Text>{t('em.cover.belowOnly', '只看未达标单位')}</Typography.Text>
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error} style={{ marginBottom: 12 }} />}
      <Spin spinning={list.loading}>
        {!list.loading && !list.data?.items.length && <Empty description={t('em.cover.none', '暂无储备')} />}
        {list.data?.items.map((u) => (
          <Card
            key={u.unit}
            size="small"
            type="inner"
            style={{ marginBottom: 12 }}
            data-testid="cover-unit"
            title={
              <Space>
                <span>{u.name}</span>
                {u.meetsStandard ? (
                  <Tag color="green">{t('em.cover.meets', '达到 {n} 天储备标准', { n: u.standardDays })}</Tag>
                ) : (
                  <Tag color="red" data-testid="unit-below">
                    {t('em.cover.below', '未达标：{n} 种物资不足 {d} 天', { n: u.belowStandard.length, d: u.standardDays })}
                  </Tag>
                )}
              </Space>
            }
          >
            <Table
              rowKey="item"
              size="small"
              columns={columns(u.standardDays)}
              dataSource={u.items}
              pagination={false}
              onRow={(r) => ({ style: r.meetsStandard ? undefined : { background: '#fff1f0' } })}
            />
          </Card>
        ))}
      </Spin>
      <Pagination {...pageControls(list, (n) => t('em.cover.total', '共 {n} 个单位', { n }), true)} data-testid="cover-pagination" />
    </Card>
  );
}

function StockTab({ names }: { names: Names }) {
  const [unit, setUnit] = useState<string>();
  const [item, setItem] = useState<string>();
  const list = useServerPage<BatchView>((p, s) => listStock({ ...p, unit, item }, s), [unit, item]);
  const columns: TableColumnsType<BatchView> = [
    { title: t('em.col.unit', '单位'), key: 'unit', render: (_, r) => names.unit(r.unit) },
    { title: t('em.cover.item', '物资'), key: 'item', render: (_, r) => names.item(r.item) },
    { title: t('em.move.batchNo', '批号'), dataIndex: 'batchNo' },
    { title: t('em.stock.expiresOn', '有效期至'), key: 'expires', render: (_, r) => r.expiresOn ?? t('em.stock.noExpiry', '无效期') },
    { title: t('em.stock.quantity', '数量'), key: 'qty', render: (_, r) => `${qty(r.quantity)} ${names.uom(r.item)}` },
    {
      title: t('em.stock.expiry', '效期状态'),
      key: 'cls',
      render: (_, r) => (
        <Tag color={r.expiry ? EXPIRY_COLOURS[r.expiry] : 'green'} data-testid="batch-expiry">
          {expiryLabel(r.expiry)}
        </Tag>
      ),
    },
  ];
  return (
    <Card size="small">
      <Space style={{ marginBottom: 12 }} wrap>
        <Typography.Text>{t('em.filter.unit', '单位')}</Typography.Text>
        <UnitFilter names={names} value={unit} onChange={setUnit} />
        <Typography.Text>{t('em.filter.item', '物资')}</Typography.Text>
        <Select
          allowClear
          style={{ width: 220 }}
          placeholder={t('em.filter.allItems', '全部物资')}
          value={item}
          onChange={(v?: string) => setItem(v)}
          options={names.items.map((i) => ({ value: i.code, label: `${i.name} · ${categoryLabel(i.category)}` }))}
        />
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error} style={{ marginBottom: 12 }} />}
      <PagedTable
        list={list}
        rowKey={(r) => `${r.unit}|${r.item}|${r.batchNo}`}
        columns={columns}
        data-testid="stock-table"
        total={(n) => t('em.stock.total', '共 {n} 个批次', { n })}
        sizeChanger
      />
    </Card>
  );
}

const WARNING_KINDS = ['below-standard', 'near-expiry', 'expired'] as const;

function WarningsTab({ names }: { names: Names }) {
  const [unit, setUnit] = useState<string>();
  const [kind, setKind] = useState<string>();
  const list = useServerPage<ReserveWarning>((p, s) => listWarnings({ ...p, unit, kind }, s), [unit, kind]);
  const colour = (w: ReserveWarning) => (w.kind === 'near-expiry' ? (w.window && w.window <= 30 ? 'volcano' : 'orange') : 'red');
  const columns: TableColumnsType<ReserveWarning> = [
    {
      title: t('em.warning.kind', '预警'),
      key: 'kind',
      render: (_, r) => (
        <Tag color={colour(r)} data-testid="warning-kind">
          {warningKindLabel(r.kind, r.window)}
        </Tag>
      ),
    },
    { title: t('em.col.unit', '单位'), key: 'unit', render: (_, r) => names.unit(r.unit) },
    { title: t('em.cover.item', '物资'), key: 'item', render: (_, r) => names.item(r.item) },
    {
      title: t('em.warning.detail', '情况'),
      key: 'detail',
      render: (_, r) =>
        r.kind === 'below-standard'
          ? t('em.warning.belowDetail', '可保障 {d} 天，低于 {n} 天标准', {
              d: r.days === null ? '—' : Math.floor(r.days * 10) / 10,
              n: names.standardDays,
            })
          : r.kind === 'expired'
            ? t('em.warning.expiredDetail', '批号 {b} 已于 {date} 过期，{q}{uom} 不能出库', {
                b: r.batchNo ?? '—',
                date: r.expiresOn ?? '—',
                q: qty(r.quantity),
                uom: names.uom(r.item),
              })
            : t('em.warning.nearDetail', '批号 {b} 将于 {date} 到期（剩 {d} 天），{q}{uom}', {
                b: r.batchNo ?? '—',
                date: r.expiresOn ?? '—',
                d: r.days ?? '—',
                q: qty(r.quantity),
                uom: names.uom(r.item),
              }),
    },
  ];
  return (
    <Card size="small">
      <Space style={{ marginBottom: 12 }} wrap>
        <Typography.Text>{t('em.filter.unit', '单位')}</Typography.Text>
        <UnitFilter names={names} value={unit} onChange={setUnit} />
        <Typography.Text>{t('em.warning.kind', '预警')}</Typography.Text>
        <Select
          allowClear
          style={{ width: 180 }}
          placeholder={t('em.warning.all', '全部预警')}
          value={kind}
          onChange={(v?: string) => setKind(v)}
          options={WARNING_KINDS.map((k) => ({ value: k, label: warningKindLabel(k) }))}
        />
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error} style={{ marginBottom: 12 }} />}
      <PagedTable
        list={list}
        rowKey={(r) => `${r.kind}|${r.unit}|${r.item}|${r.batchNo ?? ''}`}
        columns={columns}
        data-testid="warnings-table"
        total={(n) => t('em.warning.total', '共 {n} 条预警', { n })}
        sizeChanger
      />
    </Card>
  );
}

function MovementsTab({ names, tick }: { names: Names; tick: number }) {
  const [unit, setUnit] = useState<string>();
  const list = useServerPage<MovementView>((p, s) => listMovements({ ...p, unit }, s), [unit, tick]);
  const columns: TableColumnsType<MovementView> = [
    { title: t('em.movement.at', '时间'), key: 'at', render: (_, r) => chinaTime(r.at) },
    {
      title: t('em.movement.kind', '类型'),
      key: 'kind',
      render: (_, r) => (
        <Space size={4}>
          <Tag color={r.kind === 'receipt' || r.kind === 'transfer-in' ? 'green' : 'blue'}>{movementLabel(r.kind)}</Tag>
          {r.exercise && <Tag color="purple">{t('em.exercise', '演练')}</Tag>}
        </Space>
      ),
    },
    { title: t('em.col.unit', '单位'), key: 'unit', render: (_, r) => names.unit(r.unit) },
    { title: t('em.cover.item', '物资'), key: 'item', render: (_, r) => names.item(r.item) },
    { title: t('em.move.batchNo', '批号'), dataIndex: 'batchNo' },
    { title: t('em.stock.quantity', '数量'), key: 'qty', render: (_, r) => `${qty(r.quantity)} ${names.uom(r.item)}` },
    {
      title: t('em.movement.counterpart', '来源/去向'),
      key: 'counterpart',
      render: (_, r) => (r.kind === 'transfer-in' || r.kind === 'transfer-out' ? names.unit(r.counterpart) : (r.counterpart ?? '—')),
    },
    { title: t('em.movement.by', '经办人'), dataIndex: 'byUser' },
  ];
  return (
    <Card size="small">
      <Space style={{ marginBottom: 12 }} wrap>
        <Typography.Text>{t('em.filter.unit', '单位')}</Typography.Text>
        <UnitFilter names={names} value={unit} onChange={setUnit} />
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error} style={{ marginBottom: 12 }} />}
      <PagedTable
        list={list}
        rowKey="id"
        columns={columns}
        data-testid="movements-table"
        total={(n) => t('em.movement.total', '共 {n} 条记录', { n })}
        sizeChanger
      />
    </Card>
  );
}

const TABS = ['cover', 'stock', 'warnings', 'movements'] as const;

export function ReservesPage({ tab }: { tab?: string }) {
  const names = useNames();
  const [moving, setMoving] = useState<MovementFormKind>();
  const [tick, setTick] = useState(0);
  const active = (TABS as readonly string[]).includes(tab ?? '') ? tab! : 'cover';
  const write = mayWrite();
  return (
    <div data-testid="emergency-reserves">
      <PageHeader
        title={t('nav.emergencyReserves', '物资储备')}
        crumbs={[{ title: t('nav.emergency', '应急管理') }, { title: t('nav.emergencyReserves', '物资储备') }]}
        extra={
          write && (
            <Space>
              <Button type="primary" onClick={() => setMoving('receipt')} data-testid="receive-button">
                {t('em.move.receiptButton', '入库')}
              </Button>
              <Button onClick={() => setMoving('issue')} data-testid="issue-button">
                {t('em.move.issueButton', '出库')}
              </Button>
              <Button onClick={() => setMoving('transfer')} data-testid="transfer-button">
                {t('em.move.transferButton', '调拨')}
              </Button>
            </Space>
          )
        }
      />
      <Tabs
        activeKey={active}
        onChange={(k) => navigate('/emergency/reserves', { tab: k === 'cover' ? undefined : k })}
        items={[
          { key: 'cover', label: t('em.tab.cover', '储备天数'), children: <CoverTab key={tick} names={names} /> },
          { key: 'stock', label: t('em.tab.stock', '库存批次'), children: <StockTab key={tick} names={names} /> },
          { key: 'warnings', label: t('em.tab.warnings', '储备预警'), children: <WarningsTab key={tick} names={names} /> },
          { key: 'movements', label: t('em.tab.movements', '出入库记录'), children: <MovementsTab names={names} tick={tick} /> },
        ]}
      />
      <MovementModal
        kind={moving}
        names={names}
        onClose={() => setMoving(undefined)}
        onSaved={() => {
          setMoving(undefined);
          setTick((n) => n + 1);
        }}
      />
    </div>
  );
}
