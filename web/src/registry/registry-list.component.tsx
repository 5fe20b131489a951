/**
 * One list of the 机构与地点 screen (organizations, places, areas): searched by name or code and
 * filtered by the tab's own filters, paged on the server with its total, and a drawer to edit one
 * record (the same checks as an import, refusals shown as they come back).
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Alert, App, Button, Drawer, Form, Input, InputNumber, Space, Table, type FormInstance, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { saveRecord, type ImportReport, type ListFilter, type RecordBody, type RegistryKind, type SitePage } from './registry.resource.js';

export const PAGE_SIZE = 20;
export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A page of the registry's lists, in the server's shape. */
type ListPage<T> = Omit<SitePage, 'items'> & { items: T[] };

/** Loads one page whenever the filter changes; returns the page, loading flag, error and a reload. */
function usePaged<T>(load: (f: ListFilter, signal: AbortSignal) => Promise<ListPage<T>>, filter: ListFilter) {
  const [data, setData] = useState<ListPage<T>>({ total: 0, items: [] });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [reload, setReload] = useState(0);
  const key = JSON.stringify(filter);
  useEffect(() => {
    const c = new AbortController();
    setLoading(true);
    load(JSON.parse(key) as ListFilter, c.signal)
      .then((d) => {
        setData(d);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setError(errorText(e));
        setLoading(false);
      });
    return () => c.abort();
  }, [key, reload, load]);
  return { data, loading, error, refresh: useCallback(() => setReload((n) => n + 1), []) };
}

/** A list's state: its page, search, the record being edited (`E`) and the edit form's values (`V`). */
export interface RegistryList<T, E, V> {
  page: number;
  setPage: (page: number) => void;
  setQ: (q: string) => void;
  data: ListPage<T>;
  loading: boolean;
  error?: string;
  form: FormInstance<V>;
  editing?: E;
  problem?: ImportReport;
  /** Opens the drawer on `record`, the form reset and then filled with `values` when given. */
  edit: (record: E, values?: Parameters<FormInstance<V>['setFieldsValue']>[0]) => void;
  close: () => void;
  /** Saves the record `code` with the form's non-empty values: closes and reloads, or shows the refusals. */
  save: (code: string, values: RecordBody) => Promise<void>;
  /** Wraps a filter's setter so that choosing a value goes back to the first page. */
  filtered: <X>(set: (x: X) => void) => (x: X) => void;
}

/** The list of `kind`, loaded with `load` (keep it stable) and filtered by `filter` and the search. */
export function useRegistryList<T, E, V>(
  kind: RegistryKind,
  load: (f: ListFilter, signal: AbortSignal) => Promise<ListPage<T>>,
  filter: Omit<ListFilter, 'q' | 'limit' | 'offset'>,
): RegistryList<T, E, V> {
  const { message } = App.useApp();
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<E>();
  const [problem, setProblem] = useState<ImportReport>();
  const [form] = Form.useForm<V>();
  const { data, loading, error, refresh } = usePaged(load, {
    ...filter,
    q: q || undefined,
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  const edit: RegistryList<T, E, V>['edit'] = (record, values) => {
    setEditing(record);
    setProblem(undefined);
    form.resetFields();
    if (values) form.setFieldsValue(values);
  };
  const save = async (code: string, values: RecordBody) => {
    const clean = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v !== '')) as RecordBody;
    try {
      const r = await saveRecord(kind, code, clean);
      if (r.stored) {
        void message.success(t('registry.saved', '已保存'));
        setEditing(undefined);
        refresh();
      } else setProblem(r);
    } catch (e) {
      void message.error(errorText(e));
    }
  };
  const filtered =
    <X,>(set: (x: X) => void) =>
    (x: X) => {
      set(x);
      setPage(1);
    };
  return {
    page,
    setPage,
    setQ,
    data,
    loading,
    error,
    form,
    editing,
    problem,
    edit,
    close: () => setEditing(undefined),
    save,
    filtered,
  };
}

/**
 * The list's screen: `filters`, the search box and `actions` in a row, the table of `columns`,
 * and the edit drawer with the form fields `children` (longitude and latitude after them).
 */
export function RegistryListView<T extends { code: string }, E, V>(props: {
  list: RegistryList<T, E, V>;
  filters: ReactNode;
  actions?: ReactNode;
  columns: TableColumnsType<T>;
  drawerWidth: number;
  drawerTitle: ReactNode;
  onSave: () => Promise<void>;
  children: ReactNode;
}) {
  const { list } = props;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space wrap>
        {props.filters}
        <Input.Search
          allowClear
          style={{ width: 240 }}
          aria-label={t('registry.filter.search', '名称或代码')}
          placeholder={t('registry.filter.search', '名称或代码')}
          onSearch={(v) => {
            list.setQ(v.trim());
            list.setPage(1);
          }}
        />
        {props.actions}
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error} />}
      <Table
        rowKey="code"
        size="small"
        loading={list.loading}
        columns={props.columns}
        dataSource={list.data.items}
        // Rows are flat: an area's `children` is its count of sub-areas, not nested rows.
        expandable={{ childrenColumnName: '__nested' }}
        pagination={{
          current: list.page,
          pageSize: PAGE_SIZE,
          total: list.data.total,
          showSizeChanger: false,
          onChange: list.setPage,
          showTotal: (n) => t('registry.total', '共 {n} 条', { n }),
        }}
      />
      <Drawer
        open={list.editing !== undefined}
        width={props.drawerWidth}
        title={props.drawerTitle}
        onClose={list.close}
        extra={
          <Button type="primary" onClick={() => void props.onSave()}>
            {t('registry.save', '保存')}
          </Button>
        }
      >
        {list.problem && (
          <Alert
            type="error"
            showIcon
            style={{ marginBottom: 12 }}
            message={t('registry.notSaved', '未保存')}
            description={list.problem.refused.map((r) => r.reason).join('；')}
          />
        )}
        <Form form={list.form} layout="vertical">
          {props.children}
          <Space>
            <Form.Item name="longitude" label={t('registry.longitude', '经度')}>
              <InputNumber min={-180} max={180} step={0.000001} />
            </Form.Item>
            <Form.Item name="latitude" label={t('registry.latitude', '纬度')}>
              <InputNumber min={-90} max={90} step={0.000001} />
            </Form.Item>
          </Space>
        </Form>
      </Drawer>
    </Space>
  );
}
