/**
 * 我的账号: change my password (forced after an administrator's reset: nothing else is shown
 * until it is done) and, for administrators and auditors, enrol an authenticator app as a
 * second factor (TOTP).
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Space, Typography } from 'antd';
import { changePassword, confirmTotp, enrolTotp } from '../api/auth.resource.js';
import { getSession, hasRole, setSession, type SessionUser } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from './page-header.component.js';
import { navigate } from './router.js';

interface PasswordForm {
  currentPassword: string;
  newPassword: string;
  confirm: string;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function ChangePasswordCard({ user, forced }: { user: SessionUser; forced?: boolean }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<PasswordForm>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (values: PasswordForm) => {
    setBusy(true);
    setError(undefined);
    try {
      await changePassword(values.currentPassword, values.newPassword);
      const session = getSession();
      if (session) setSession({ ...session, user: { ...session.user, mustChangePassword: undefined } });
      message.success(t('account.passwordChanged', '密码已修改，您在其他设备上的登录已结束'));
      form.resetFields();
      if (forced) navigate('/');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t('account.changePassword', '修改密码')} data-testid="change-password">
      {forced && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          message={t('account.mustChange', '您的密码已由管理员重置，请先设置新密码再继续使用。')}
        />
      )}
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="change-password-error" />}
      <Form<PasswordForm> form={form} layout="vertical" requiredMark={false} onFinish={submit} style={{ maxWidth: 420 }}>
        <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
        <Form.Item
          name="currentPassword"
          label={forced ? t('account.oneTimePassword', '一次性密码（当前密码）') : t('account.currentPassword', '当前密码')}
          rules={[{ required: true, message: t('account.currentRequired', '请输入当前密码') }]}
        >
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Form.Item
          name="newPassword"
          label={t('account.newPassword', '新密码')}
          extra={t('account.rules', '至少 12 个字符；不能是或包含用户名；不能由同一个字符重复组成；不能是常见密码。')}
          rules={[
            { required: true, message: t('account.newRequired', '请输入新密码') },
            { min: 12, message: t('account.newMin', '至少 12 个字符') },
            { max: 1024 },
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t('account.confirm', '再次输入新密码')}
          dependencies={['newPassword']}
          rules={[
            { required: true, message: t('account.confirmRequired', '请再次输入新密码') },
            ({ getFieldValue }) => ({
              validator: (_, v) =>
                !v || v === getFieldValue('newPassword')
                  ? Promise.resolve()
                  : Promise.reject(new Error(t('account.mismatch', '两次输入的新密码不一致'))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} data-testid="change-password-submit">
          {t('account.submit', '修改密码')}
        </Button>
      </Form>
    </Card>
  );
}

function TotpCard() {
  const { message } = App.useApp();
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauthUrl: string }>();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState(false);

  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setEnrolment(await enrolTotp());
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await confirmTotp(code.trim());
      setDone(true);
      setEnrolment(undefined);
      message.success(t('account.totpOn', '双因素认证已启用：以后登录需输入动态验证码'));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t('account.totp', '双因素认证（身份验证器）')} data-testid="totp-card">
      <Typography.Paragraph type="secondary">
        {t(
          'account.totpHint',
          '启用后，登录时除密码外还需输入手机身份验证器（如 Microsoft Authenticator、Google Authenticator）上的 6 位动态验证码。',
        )}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      {done && <Alert type="success" showIcon message={t('account.totpOn', '双因素认证已启用：以后登录需输入动态验证码')} />}
      {!enrolment && !done && (
        <Button onClick={() => void start()} loading={busy}>
          {t('account.totpStart', '绑定身份验证器')}
        </Button>
      )}
      {enrolment && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Typography.Text>{t('account.totpSecret', '在身份验证器中手动添加以下密钥（或打开链接）：')}</Typography.Text>
          <Typography.Text code copyable data-testid="totp-secret">
            {enrolment.secret}
          </Typography.Text>
          <Typography.Text copyable type="secondary" style={{ wordBreak: 'break-all' }}>
            {enrolment.otpauthUrl}
          </Typography.Text>
          <Space>
            <Input
              style={{ width: 160 }}
              maxLength={6}
              inputMode="numeric"
              placeholder={t('account.totpCode', '6 位验证码')}
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
            <Button type="primary" onClick={() => void confirm()} loading={busy} disabled={!/^\d{6}$/.test(code.trim())}>
              {t('account.totpConfirm', '确认绑定')}
            </Button>
          </Space>
        </Space>
      )}
    </Card>
  );
}

export function AccountPage({ user }: { user: SessionUser }) {
  const forced = !!user.mustChangePassword;
  return (
    <div data-testid="account-page">
      <PageHeader title={t('account.title', '我的账号')} />
      <Space direction="vertical" size="large" style={{ width: '100%' }}>
        <ChangePasswordCard user={user} forced={forced} />
        {!forced && (hasRole(user, 'admin') || hasRole(user, 'auditor')) && <TotpCard />}
      </Space>
    </div>
  );
}
