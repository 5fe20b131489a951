/**
 * One list of the 机构与地点 screen (organizations, places, areas): searched by name or code and
 * filtered by the tab's own filters, paged on the server with its total, and a drawer to edit one
 * record (the same checks as an import, refusals shown as they come back).
 */
import { useState, type ReactNode } from 'react';
import { Alert, App, Button, Drawer, Form, Input, InputNumber, Space, type FormInstance, type TableColumnsType } from 'antd';
import { t } from '../i18n/i18n.js';
import { PagedTable, useServerPage, type ServerPaged } from '../shared/paged-table.component.js';
import { saveRecord, type ImportReport, type ListFilter, type RecordBody, type RegistryKind, type SitePage } from './registry.resource.js';

export const PAGE_SIZE = 20;
export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A page of the registry's lists, in the server's shape. */
type ListPage<T> = Omit<SitePage, 'items'> & { items: T[] };

/** A list's state: its page, search, the record being edited (`E`) and the edit form's values (`V`). */
export interface RegistryList<T, E, V> {
  /** The page on screen, its total, loading and error. */
  paged: ServerPaged<T, ListPage<T>>;
  setPage: (page: number) => void;
  setQ: (q: string) => void;
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
  const [editing, setEditing] = useState<E>();
  const [problem, setProblem] = useState<ImportReport>();
  const [form] = Form.useForm<V>();
  // The kind, the tab's filters and the search: a change goes back to the first page.
  const paged = useServerPage<T, ListPage<T>>((p, signal) => load({ ...filter, q: q || undefined, ...p }, signal), [kind, filter, q], {
    pageSize: PAGE_SIZE,
  });
  const { setPage, reload: refresh } = paged;
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
    paged,
    setPage,
    setQ,
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
      {list.paged.error && <Alert type="error" showIcon message={list.paged.error} />}
      <PagedTable
        list={list.paged}
        rowKey="code"
        columns={props.columns}
        // Rows are flat: an area's `children` is its count of sub-areas, not nested rows.
        expandable={{ childrenColumnName: '__nested' }}
        total={(n) => t('registry.total', '共 {n} 条', { n })}
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
