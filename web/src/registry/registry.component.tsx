/**
 * 系统管理 · 机构与地点 (master data registry, issue #16): organizations, areas and places, each
 * paged on the server with its total and filtered by type and area; a drawer to edit one (the
 * same checks as an import, refusals shown as they come back); and an upload screen that
 * imports a CSV, GeoJSON or TopoJSON file and shows its report (created / updated / unchanged,
 * and every refused line or feature with its reason).
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Descriptions, Form, Input, Select, Space, Table, Tabs, Tag, Typography, Upload, type TableColumnsType } from 'antd';
import { InboxOutlined } from '@ant-design/icons';
import { getLang, t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  fetchAreas,
  fetchCodes,
  fetchSites,
  uploadRegistryFile,
  type AreaItem,
  type CodeOption,
  type ImportReport,
  type ListFilter,
  type RecordBody,
  type RegistryCodesAnswer,
  type RegistryKind,
  type SiteItem,
} from './registry.resource.js';
import { errorText, PAGE_SIZE, RegistryListView, useRegistryList } from './registry-list.component.js';

const word = (options: CodeOption[] | undefined, code: string | undefined | null) => {
  if (!code) return '';
  const o = options?.find((x) => x.code === code);
  return o ? (getLang() === 'en' ? o.en : o.zh) : code;
};
const selectOptions = (options: CodeOption[] | undefined) =>
  (options ?? []).map((o) => ({ value: o.code, label: getLang() === 'en' ? o.en : o.zh }));

function ReportView({ report }: { report: ImportReport }) {
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="import-report">
      {report.stored ? (
        <Alert
          type="success"
          showIcon
          message={t('registry.report.stored', '已导入：新增 {created}，更新 {updated}，未变 {unchanged}', {
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
          })}
        />
      ) : (
        <Alert
          type="error"
          showIcon
          message={t('registry.report.refused', '未导入：{n} 处问题，文件中的内容均未保存', { n: report.refused.length })}
          description={report.message}
        />
      )}
      <Descriptions size="small" column={3}>
        <Descriptions.Item label={t('registry.report.file', '文件')}>{report.fileName ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('registry.report.kind', '内容')}>{kindLabel(report.kind)}</Descriptions.Item>
        <Descriptions.Item label={t('registry.report.encoding', '编码')}>{report.encoding ?? '—'}</Descriptions.Item>
        {report.boundaryBytes !== undefined && (
          <Descriptions.Item
            label={t('registry.report.boundary', '边界（简化后）')}
          >{`${Math.round(report.boundaryBytes / 1024)} KB`}</Descriptions.Item>
        )}
        <Descriptions.Item label={t('registry.report.seconds', '用时')}>{`${report.seconds.toFixed(1)} s`}</Descriptions.Item>
      </Descriptions>
      {report.refused.length > 0 && (
        <Table
          size="small"
          rowKey={(r, i) => `${r.where}-${i}`}
          dataSource={report.refused}
          pagination={{ pageSize: PAGE_SIZE, showTotal: (n) => t('registry.total', '共 {n} 条', { n }) }}
          columns={[
            { title: t('registry.report.where', '位置'), dataIndex: 'where', width: 120, render: (w: string) => whereLabel(w) },
            { title: t('registry.code', '代码'), dataIndex: 'code', width: 160 },
            { title: t('registry.report.reason', '原因'), dataIndex: 'reason' },
          ]}
        />
      )}
    </Space>
  );
}

function kindLabel(kind: RegistryKind | 'bundle'): string {
  if (kind === 'bundle') return t('registry.kind.bundle', 'FHIR Bundle（区划、机构与场所）');
  return kind === 'areas'
    ? t('registry.tab.areas', '行政区划')
    : kind === 'organizations'
      ? t('registry.tab.organizations', '机构')
      : t('registry.tab.places', '场所');
}
function whereLabel(where: string): string {
  const m = /^(line|feature|entry) (\d+)$/.exec(where);
  if (!m) return where === 'file' ? t('registry.where.file', '整个文件') : where;
  if (m[1] === 'entry') return t('registry.where.entry', '第 {n} 个条目', { n: m[2]! });
  return m[1] === 'line' ? t('registry.where.line', '第 {n} 行', { n: m[2]! }) : t('registry.where.feature', '第 {n} 个要素', { n: m[2]! });
}

function SitesTab({ kind, codes, streets }: { kind: 'organizations' | 'places'; codes?: RegistryCodesAnswer; streets: AreaItem[] }) {
  const [type, setType] = useState<string>();
  const [area, setArea] = useState<string>();
  const load = useCallback((f: ListFilter, s: AbortSignal) => fetchSites(kind, f, s), [kind]);
  const list = useRegistryList<SiteItem, SiteItem | 'new', RecordBody & { code: string }>(kind, load, { type, area });
  const types = kind === 'organizations' ? codes?.organizationTypes : codes?.placeTypes;
  const streetName = useMemo(() => new Map(streets.map((s) => [s.code, s.name])), [streets]);

  const open = (s: SiteItem | 'new') => {
    if (s === 'new') return list.edit(s);
    const d = s.details as {
      hospitalLevel?: string;
      sentinelTypes?: string[];
      grades?: { grade: string; classes: number }[];
      address?: string;
    };
    list.edit(s, {
      code: s.code,
      name: s.name,
      type: s.type,
      area: s.areaCode ?? undefined,
      level: d.hospitalLevel,
      address: d.address,
      sentinel: d.sentinelTypes?.join(';'),
      grades: d.grades?.map((g) => g.grade).join(';'),
      classes: d.grades?.map((g) => g.classes).join(';'),
      ...(kind === 'organizations' ? { parent: s.parentCode ?? undefined } : { organization: s.parentCode ?? undefined }),
      longitude: s.position?.[0],
      latitude: s.position?.[1],
    });
  };
  const save = async () => {
    const values = await list.form.validateFields().catch(() => undefined);
    if (!values) return;
    const { code, ...body } = values;
    await list.save(code.trim(), body);
  };

  const columns: TableColumnsType<SiteItem> = [
    { title: t('registry.name', '名称'), dataIndex: 'name' },
    { title: t('registry.code', '代码'), dataIndex: 'code', width: 150 },
    {
      title: t('registry.type', '类别'),
      dataIndex: 'type',
      render: (v: string, s) => {
        const d = s.details as { hospitalLevel?: string; sentinelTypes?: string[] };
        return (
          <Space size={4} wrap>
            <span>{word(types, v)}</span>
            {d.hospitalLevel && <Tag>{word(codes?.hospitalLevels, d.hospitalLevel)}</Tag>}
            {d.sentinelTypes?.map((x) => (
              <Tag key={x} color="orange">
                {word(codes?.sentinelTypes, x)}
              </Tag>
            ))}
          </Space>
        );
      },
    },
    {
      title: t('registry.street', '街道/乡镇'),
      dataIndex: 'streetCode',
      render: (v: string | null) => (v ? (streetName.get(v) ?? v) : '—'),
    },
    { title: t('registry.area', '所属区划'), dataIndex: 'areaCode', width: 140, render: (v: string | null) => v ?? '—' },
    {
      title: t('registry.actions', '操作'),
      key: 'actions',
      width: 90,
      render: (_: unknown, s) => (
        <Button size="small" onClick={() => open(s)}>
          {t('registry.edit', '编辑')}
        </Button>
      ),
    },
  ];

  return (
    <RegistryListView
      list={list}
      columns={columns}
      filters={
        <>
          <Select
            allowClear
            style={{ width: 200 }}
            aria-label={t('registry.filter.type', '类别')}
            placeholder={t('registry.filter.type', '类别')}
            value={type}
            options={selectOptions(types)}
            onChange={list.filtered((v: string | undefined) => setType(v))}
          />
          <Select
            allowClear
            showSearch
            optionFilterProp="label"
            style={{ width: 200 }}
            aria-label={t('registry.filter.area', '街道/乡镇')}
            placeholder={t('registry.filter.area', '街道/乡镇')}
            value={area}
            options={streets.map((s) => ({ value: s.code, label: s.name }))}
            onChange={list.filtered((v: string | undefined) => setArea(v))}
          />
        </>
      }
      actions={
        <Button type="primary" onClick={() => open('new')}>
          {kind === 'organizations' ? t('registry.newOrganization', '新增机构') : t('registry.newPlace', '新增场所')}
        </Button>
      }
      drawerWidth={480}
      drawerTitle={
        list.editing === 'new'
          ? kind === 'organizations'
            ? t('registry.newOrganization', '新增机构')
            : t('registry.newPlace', '新增场所')
          : t('registry.edit', '编辑')
      }
      onSave={save}
    >
      <Form.Item name="code" label={t('registry.code', '代码')} rules={[{ required: true }]}>
        <Input disabled={list.editing !== 'new'} />
      </Form.Item>
      <Form.Item name="name" label={t('registry.name', '名称')} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
      <Form.Item name="type" label={t('registry.type', '类别')} rules={[{ required: true }]}>
        <Select options={selectOptions(types)} />
      </Form.Item>
      {kind === 'organizations' ? (
        <>
          <Form.Item name="level" label={t('registry.hospitalLevel', '医院等级')}>
            <Select allowClear options={selectOptions(codes?.hospitalLevels)} />
          </Form.Item>
          <Form.Item name="parent" label={t('registry.parentOrganization', '上级机构代码')}>
            <Input />
          </Form.Item>
        </>
      ) : (
        <>
          <Form.Item name="sentinel" label={t('registry.sentinel', '哨点类型（多个用 ; 分隔）')}>
            <Input placeholder={(codes?.sentinelTypes ?? []).map((s) => (getLang() === 'en' ? s.en : s.zh)).join('; ')} />
          </Form.Item>
          <Form.Item name="grades" label={t('registry.grades', '年级（; 分隔）')}>
            <Input />
          </Form.Item>
          <Form.Item name="classes" label={t('registry.classes', '每个年级的班级数（; 分隔）')}>
            <Input />
          </Form.Item>
          <Form.Item name="organization" label={t('registry.organization', '所属机构代码')}>
            <Input />
          </Form.Item>
        </>
      )}
      <Form.Item name="area" label={t('registry.areaCode', '所属区划代码（社区/村或街道）')}>
        <Input />
      </Form.Item>
      <Form.Item name="address" label={t('registry.address', '地址')}>
        <Input />
      </Form.Item>
    </RegistryListView>
  );
}

function AreasTab({ codes }: { codes?: RegistryCodesAnswer }) {
  const [level, setLevel] = useState<string>();
  const list = useRegistryList<AreaItem, AreaItem, RecordBody>('areas', fetchAreas, { level });
  const save = async () => {
    const values = await list.form.validateFields().catch(() => undefined);
    if (!values || !list.editing) return;
    await list.save(list.editing.code, values);
  };
  return (
    <RegistryListView
      list={list}
      filters={
        <Select
          allowClear
          style={{ width: 180 }}
          aria-label={t('registry.filter.level', '层级')}
          placeholder={t('registry.filter.level', '层级')}
          value={level}
          options={selectOptions(codes?.areaLevels)}
          onChange={list.filtered((v: string | undefined) => setLevel(v))}
        />
      }
      columns={[
        { title: t('registry.name', '名称'), dataIndex: 'name' },
        { title: t('registry.areaCode12', '统计用区划代码'), dataIndex: 'code', width: 150 },
        { title: t('registry.gb2260', 'GB/T 2260 代码'), dataIndex: 'gb2260', width: 120 },
        { title: t('registry.level', '层级'), dataIndex: 'level', render: (v: string) => word(codes?.areaLevels, v) },
        {
          title: t('registry.parent', '上级'),
          key: 'parent',
          render: (_: unknown, a: AreaItem) => (a.parentCode ? <span title={a.parentCode}>{a.parentName ?? a.parentCode}</span> : '—'),
        },
        { title: t('registry.children', '下级'), dataIndex: 'children', width: 70 },
        {
          title: t('registry.actions', '操作'),
          key: 'actions',
          width: 90,
          render: (_: unknown, a: AreaItem) => (
            <Button
              size="small"
              onClick={() =>
                list.edit(a, {
                  name: a.name,
                  level: a.level,
                  parent: a.parentCode ?? undefined,
                  longitude: a.centroid?.[0],
                  latitude: a.centroid?.[1],
                })
              }
            >
              {t('registry.edit', '编辑')}
            </Button>
          ),
        },
      ]}
      drawerWidth={420}
      drawerTitle={`${t('registry.edit', '编辑')} ${list.editing?.code ?? ''}`}
      onSave={save}
    >
      <Form.Item name="name" label={t('registry.name', '名称')} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
      <Form.Item name="level" label={t('registry.level', '层级')}>
        <Select options={selectOptions(codes?.areaLevels)} />
      </Form.Item>
      <Form.Item name="parent" label={t('registry.parent', '上级')}>
        <Input />
      </Form.Item>
    </RegistryListView>
  );
}

function ImportTab() {
  const [kind, setKind] = useState<RegistryKind>();
  const [encoding, setEncoding] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ImportReport>();
  const [error, setError] = useState<string>();
  const send = async (file: File) => {
    setBusy(true);
    setError(undefined);
    try {
      setReport(await uploadRegistryFile(file, file.name, kind, encoding));
    } catch (e) {
      setReport(undefined);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Typography.Paragraph type="secondary">
        {t(
          'registry.import.help',
          '行政区划：GeoJSON/TopoJSON（面要素，属性 code、name、level、parent）或 CSV；机构、场所：CSV（UTF-8 或 GB18030，表头可用中文）。每个文件要么全部导入，要么一条也不导入；有问题的行或要素会逐条列出。请先导入区划，再导入机构和场所。',
        )}
      </Typography.Paragraph>
      <Space wrap>
        <Select
          allowClear
          style={{ width: 200 }}
          aria-label={t('registry.import.kind', '文件内容')}
          placeholder={t('registry.import.kindAuto', '文件内容（自动识别）')}
          value={kind}
          onChange={(v: RegistryKind | undefined) => setKind(v)}
          options={(['areas', 'organizations', 'places'] as const).map((k) => ({ value: k, label: kindLabel(k) }))}
        />
        <Select
          allowClear
          style={{ width: 200 }}
          aria-label={t('registry.import.encoding', '编码')}
          placeholder={t('registry.import.encodingAuto', '编码（自动识别）')}
          value={encoding}
          onChange={(v: string | undefined) => setEncoding(v)}
          options={[
            { value: 'utf-8', label: 'UTF-8' },
            { value: 'gb18030', label: 'GB18030 / GBK' },
          ]}
        />
      </Space>
      <Upload.Dragger
        accept=".csv,.geojson,.json,.topojson"
        multiple={false}
        showUploadList={false}
        disabled={busy}
        beforeUpload={(file) => {
          void send(file);
          return false;
        }}
      >
        <p className="ant-upload-drag-icon">
          <InboxOutlined />
        </p>
        <p>{busy ? t('registry.import.busy', '正在导入…') : t('registry.import.drop', '点击或拖入文件导入')}</p>
      </Upload.Dragger>
      {error && <Alert type="error" showIcon message={error} />}
      {report && <ReportView report={report} />}
    </Space>
  );
}

export function RegistryAdminPage({ tab }: { tab?: string }) {
  const [codes, setCodes] = useState<RegistryCodesAnswer>();
  const [streets, setStreets] = useState<AreaItem[]>([]);
  const [active, setActive] = useState(tab ?? 'organizations');
  useEffect(() => {
    const c = new AbortController();
    fetchCodes(c.signal)
      .then(setCodes)
      .catch(() => undefined);
    fetchAreas({ level: 'street', limit: 500, offset: 0 }, c.signal)
      .then((p) => setStreets(p.items))
      .catch(() => undefined);
    return () => c.abort();
  }, []);
  return (
    <>
      <PageHeader title={t('registry.title', '机构与地点')} />
      <Tabs
        activeKey={active}
        onChange={setActive}
        items={[
          {
            key: 'organizations',
            label: t('registry.tab.organizations', '机构'),
            children: <SitesTab kind="organizations" codes={codes} streets={streets} />,
          },
          { key: 'areas', label: t('registry.tab.areas', '行政区划'), children: <AreasTab codes={codes} /> },
          { key: 'places', label: t('registry.tab.places', '场所'), children: <SitesTab kind="places" codes={codes} streets={streets} /> },
          { key: 'import', label: t('registry.tab.import', '导入'), children: <ImportTab /> },
        ]}
      />
    </>
  );
}
