/**
 * 系统管理 · 用户管理: users paged on the server with the total, searched by name, role and
 * state; a drawer to create or edit one (name, roles in words, organization, area codes);
 * disable/enable and password reset after confirmation. A generated one-time password is shown
 * once; the user must change it at next sign-in.
 */
import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Checkbox,
  Drawer,
  Form,
  Input,
  Modal,
  Popconfirm,
  Select,
  Space,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import type { Role } from '../../../src/platform/auth.js';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../shared/format.js';
import { PageHeader } from '../shell/page-header.component.js';
import { ROLE_ORDER, roleLabel } from '../shell/roles.js';
import { createUser, fetchUsers, resetPassword, resetTotp, updateUser, type UserPage, type UserRow } from './users.resource.js';

const PAGE_SIZE = 20;

interface UserForm {
  username: string;
  displayName: string;
  roles: Role[];
  organization?: string;
  areas?: string;
  password?: string;
}

const splitAreas = (text: string | undefined) =>
  (text ?? '')
    .split(/[\s,，、;；]+/)
    .map((s) => s.trim())
    .filter(Boolean);

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function UsersPage({ currentUser }: { currentUser: string }) {
  const { message } = App.useApp();
  const [q, setQ] = useState('');
  const [role, setRole] = useState<Role>();
  const [state, setState] = useState<'all' | 'active' | 'disabled'>('all');
  const [page, setPage] = useState(1);
  const [data, setData] = useState<UserPage>({ total: 0, rows: [] });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<UserRow | 'new'>();
  const [saving, setSaving] = useState(false);
  const [oneTime, setOneTime] = useState<{ username: string; password: string }>();
  const [form] = Form.useForm<UserForm>();

  useEffect(() => {
    const c = new AbortController();
    setLoading(true);
    fetchUsers(
      {
        q: q || undefined,
        role,
        active: state === 'all' ? undefined : state === 'active',
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
      },
      c.signal,
    )
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
  }, [q, role, state, page, reload]);

  const refresh = useCallback(() => setReload((n) => n + 1), []);

  const openDrawer = (user: UserRow | 'new') => {
    setEditing(user);
    form.resetFields();
    if (user !== 'new')
      form.setFieldsValue({
        username: user.username,
        displayName: user.displayName,
        roles: user.roles,
        organization: user.organization ?? '',
        areas: user.areas.join(', '),
      });
  };

  const save = async () => {
    const values = await form.validateFields().catch(() => undefined);
    if (!values) return; // the form shows what to fix
    setSaving(true);
    try {
      const fields = {
        displayName: values.displayName.trim(),
        roles: values.roles,
        organization: values.organization?.trim() || null,
        areas: splitAreas(values.areas),
      };
      if (editing === 'new') {
        const created = await createUser({ ...fields, username: values.username.trim(), password: values.password || undefined });
        message.success(t('users.created', '已创建用户 {name}', { name: created.user.displayName }));
        if (created.oneTimePassword) setOneTime({ username: created.user.username, password: created.oneTimePassword });
      } else if (editing) {
        await updateUser(editing.username, fields);
        message.success(t('users.saved', '已保存'));
      }
      setEditing(undefined);
      refresh();
    } catch (e) {
      message.error(`${t('users.saveFailed', '保存失败')}：${errorText(e)}`);
    } finally {
      setSaving(false);
    }
  };

  const setActive = async (user: UserRow, active: boolean) => {
    try {
      await updateUser(user.username, { active });
      message.success(
        active
          ? t('users.enabledDone', '已启用 {name}', { name: user.displayName })
          : t('users.disabledDone', '已停用 {name}，其登录会话已结束', { name: user.displayName }),
      );
      refresh();
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const reset = async (user: UserRow) => {
    try {
      const done = await resetPassword(user.username);
      if (done.oneTimePassword) setOneTime({ username: user.username, password: done.oneTimePassword });
      refresh();
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const removeTotp = async (user: UserRow) => {
    try {
      await resetTotp(user.username);
      message.success(t('users.totpRemoved', '已解除 {name} 的双因素认证', { name: user.displayName }));
      refresh();
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const columns: TableColumnsType<UserRow> = [
    { title: t('users.username', '用户名'), dataIndex: 'username', width: 150 },
    { title: t('users.displayName', '姓名'), dataIndex: 'displayName', width: 130 },
    {
      title: t('users.roles', '角色'),
      key: 'roles',
      render: (_, r) => (
        <Space size={[4, 4]} wrap>
          {r.roles.map((role) => (
            <Tag key={role} color={role === 'admin' ? 'volcano' : undefined}>
              {roleLabel(role)}
            </Tag>
          ))}
        </Space>
      ),
    },
    { title: t('users.organization', '所属机构'), dataIndex: 'organization', render: (v: string | null) => v || '—' },
    { title: t('users.areas', '负责辖区'), key: 'areas', width: 140, render: (_, r) => (r.areas.length ? r.areas.join('、') : '—') },
    {
      title: t('users.state', '状态'),
      key: 'state',
      width: 160,
      render: (_, r) => (
        <Space size={[4, 4]} wrap>
          {r.active ? <Tag color="green">{t('users.active', '启用')}</Tag> : <Tag color="default">{t('users.disabled', '已停用')}</Tag>}
          {r.mustChangePassword && <Tag color="orange">{t('users.mustChange', '待修改密码')}</Tag>}
          {r.totp && <Tag color="blue">{t('users.totp', '双因素')}</Tag>}
        </Space>
      ),
    },
    {
      title: t('users.lastLogin', '最近登录'),
      key: 'last',
      width: 150,
      render: (_, r) => (r.lastLoginAt ? formatDateTime(r.lastLoginAt) : '—'),
    },
    {
      title: t('users.actions', '操作'),
      key: 'act',
      width: 250,
      render: (_, r) => (
        <Space size={4} wrap>
          <Button size="small" onClick={() => openDrawer(r)}>
            {t('users.edit', '编辑')}
          </Button>
          {r.username !== currentUser &&
            (r.active ? (
              <Popconfirm
                title={t('users.disableConfirm', '停用 {name}？', { name: r.displayName })}
                description={t('users.disableHint', '停用后该用户立即退出登录，且不能再登录。')}
                okText={t('users.disable', '停用')}
                cancelText={t('common.cancel', '取消')}
                onConfirm={() => setActive(r, false)}
              >
                <Button size="small" danger>
                  {t('users.disable', '停用')}
                </Button>
              </Popconfirm>
            ) : (
              <Button size="small" onClick={() => void setActive(r, true)}>
                {t('users.enable', '启用')}
              </Button>
            ))}
          <Popconfirm
            title={t('users.resetConfirm', '重置 {name} 的密码？', { name: r.displayName })}
            description={t('users.resetHint', '将生成一次性密码，该用户的会话立即结束，下次登录须修改密码。')}
            okText={t('users.reset', '重置密码')}
            cancelText={t('common.cancel', '取消')}
            onConfirm={() => reset(r)}
          >
            <Button size="small">{t('users.reset', '重置密码')}</Button>
          </Popconfirm>
          {r.totp && (
            <Popconfirm
              title={t('users.totpConfirm', '解除 {name} 的双因素认证？', { name: r.displayName })}
              okText={t('users.totpReset', '解除双因素')}
              cancelText={t('common.cancel', '取消')}
              onConfirm={() => removeTotp(r)}
            >
              <Button size="small">{t('users.totpReset', '解除双因素')}</Button>
            </Popconfirm>
          )}
        </Space>
      ),
    },
  ];

  return (
    <div data-testid="users-page">
      <PageHeader
        title={t('nav.users', '用户管理')}
        crumbs={[{ title: t('nav.admin', '系统管理') }, { title: t('nav.users', '用户管理') }]}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => openDrawer('new')} data-testid="user-new">
            {t('users.new', '新建用户')}
          </Button>
        }
      />
      <Space style={{ marginBottom: 12 }} wrap>
        <Input.Search
          allowClear
          style={{ width: 260 }}
          placeholder={t('users.search', '用户名、姓名或机构')}
          aria-label={t('users.search', '用户名、姓名或机构')}
          onSearch={(v) => {
            setQ(v.trim());
            setPage(1);
          }}
        />
        <Select<Role | 'all'>
          aria-label={t('users.roles', '角色')}
          style={{ width: 170 }}
          value={role ?? 'all'}
          onChange={(v) => {
            setRole(v === 'all' ? undefined : v);
            setPage(1);
          }}
          options={[
            { value: 'all', label: t('users.allRoles', '全部角色') },
            ...ROLE_ORDER.map((r) => ({ value: r, label: roleLabel(r) })),
          ]}
        />
        <Select<'all' | 'active' | 'disabled'>
          aria-label={t('users.state', '状态')}
          style={{ width: 130 }}
          value={state}
          onChange={(v) => {
            setState(v);
            setPage(1);
          }}
          options={[
            { value: 'all', label: t('users.allStates', '全部状态') },
            { value: 'active', label: t('users.active', '启用') },
            { value: 'disabled', label: t('users.disabled', '已停用') },
          ]}
        />
        <Button icon={<ReloadOutlined />} onClick={refresh}>
          {t('common.refresh', '刷新')}
        </Button>
      </Space>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      <Table
        data-testid="users-table"
        rowKey="username"
        size="middle"
        loading={loading}
        columns={columns}
        dataSource={data.rows}
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total: data.total,
          showSizeChanger: false,
          showTotal: (n) => t('users.total', '共 {n} 条', { n }),
          onChange: setPage,
        }}
      />
      <Drawer
        open={!!editing}
        width={480}
        title={
          editing === 'new' ? t('users.new', '新建用户') : t('users.editTitle', '编辑用户 {name}', { name: editing?.displayName ?? '' })
        }
        onClose={() => setEditing(undefined)}
        destroyOnHidden
        extra={
          <Space>
            <Button onClick={() => setEditing(undefined)}>{t('common.cancel', '取消')}</Button>
            <Button type="primary" loading={saving} onClick={() => void save()} data-testid="user-save">
              {t('users.save', '保存')}
            </Button>
          </Space>
        }
      >
        <Form<UserForm> form={form} layout="vertical" requiredMark={false} data-testid="user-form">
          <Form.Item
            name="username"
            label={t('users.username', '用户名')}
            rules={[
              { required: true, message: t('users.usernameRequired', '请输入用户名') },
              { pattern: /^[A-Za-z0-9_.@-]{2,64}$/, message: t('users.usernameRule', '2–64 位字母、数字或 _ . @ -') },
            ]}
          >
            <Input disabled={editing !== 'new'} autoComplete="off" />
          </Form.Item>
          <Form.Item
            name="displayName"
            label={t('users.displayName', '姓名')}
            rules={[
              { required: true, whitespace: true, message: t('users.displayNameRequired', '请输入姓名') },
              { max: 200, message: t('users.displayNameMax', '最多 200 个字符') },
            ]}
          >
            <Input />
          </Form.Item>
          <Form.Item
            name="roles"
            label={t('users.roles', '角色')}
            rules={[{ required: true, message: t('users.rolesRequired', '至少选择一个角色') }]}
          >
            <Checkbox.Group options={ROLE_ORDER.map((r) => ({ value: r, label: roleLabel(r) }))} />
          </Form.Item>
          <Form.Item name="organization" label={t('users.organization', '所属机构')} rules={[{ max: 200 }]}>
            <Input placeholder={t('users.organizationHint', '如：东城社区卫生服务中心')} />
          </Form.Item>
          <Form.Item
            name="areas"
            label={t('users.areas', '负责辖区')}
            extra={t('users.areasHint', '行政区划编码，多个以逗号分隔，如 110101, 110102')}
          >
            <Input />
          </Form.Item>
          {editing === 'new' && (
            <Form.Item
              name="password"
              label={t('users.initialPassword', '初始密码')}
              extra={t(
                'users.initialPasswordHint',
                '留空则生成一次性密码。至少 12 个字符，不能包含用户名，不能是常见密码；用户首次登录须修改。',
              )}
              rules={[{ min: 12, message: t('users.passwordMin', '至少 12 个字符') }, { max: 1024 }]}
            >
              <Input.Password autoComplete="new-password" />
            </Form.Item>
          )}
        </Form>
      </Drawer>
      <Modal
        open={!!oneTime}
        title={t('users.oneTimeTitle', '一次性密码')}
        onOk={() => setOneTime(undefined)}
        onCancel={() => setOneTime(undefined)}
        okText={t('users.oneTimeDone', '已告知用户')}
        cancelButtonProps={{ style: { display: 'none' } }}
      >
        <Typography.Paragraph>
          {t('users.oneTimeHint', '请将以下一次性密码告知 {name}；此密码只显示这一次，用户登录后须立即修改。', {
            name: oneTime?.username ?? '',
          })}
        </Typography.Paragraph>
        <Typography.Text code copyable strong data-testid="one-time-password" style={{ fontSize: 18 }}>
          {oneTime?.password}
        </Typography.Text>
      </Modal>
    </div>
  );
}
