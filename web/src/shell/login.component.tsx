/** Sign-in page: POST /auth/login, keep the token for this tab, then show the app. */
import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { LockOutlined, SafetyOutlined, UserOutlined } from '@ant-design/icons';
import { login, needsOneTimeCode } from '../api/auth.resource.js';
import { ApiError } from '../api/http.js';
import { setSession } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import { LanguageSwitch } from './language-switch.component.js';

interface LoginForm {
  username: string;
  password: string;
  code?: string;
}

export function LoginPage() {
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string>();
  // Asked once the server says this user has a second factor.
  const [askCode, setAskCode] = useState(false);

  const onFinish = async (values: LoginForm) => {
    setSubmitting(true);
    setError(undefined);
    try {
      const session = await login(values.username.trim(), values.password, values.code?.trim() || undefined);
      setSession(session);
      if (window.location.hash === '#/login') window.location.hash = '#/';
    } catch (err) {
      if (needsOneTimeCode(err) && !values.code) {
        setAskCode(true);
        setError(t('login.codeNeeded', '该账号已启用双因素认证，请输入身份验证器中的 6 位动态验证码'));
      } else if (err instanceof ApiError && err.status === 429) {
        // The server names the wait in both languages.
        setError(err.message);
      } else if (err instanceof ApiError && err.status === 400) {
        setError(t('login.tooLong', '用户名或密码过长'));
      } else if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setError(t('login.badCredentials', '用户名或密码错误'));
      } else {
        setError(t('login.failed', '登录失败：{message}', { message: err instanceof Error ? err.message : String(err) }));
      }
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <div className="yf-login">
      <div className="yf-login-lang">
        <LanguageSwitch />
      </div>
      <Card className="yf-login-card" data-testid="login-card">
        <div className="yf-login-brand">
          <img src="/favicon.svg" alt="" width={44} height={44} />
          <div>
            <Typography.Title level={3} style={{ margin: 0 }}>
              {t('app.name', '医防')}
            </Typography.Title>
            <Typography.Text type="secondary">{t('app.title', '区域公共卫生医防融合平台')}</Typography.Text>
          </div>
        </div>
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="login-error" />}
        <Form<LoginForm> layout="vertical" onFinish={onFinish} requiredMark={false} autoComplete="on">
          <Form.Item
            name="username"
            label={t('login.username', '用户名')}
            rules={[{ required: true, message: t('login.usernameRequired', '请输入用户名') }]}
          >
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item
            name="password"
            label={t('login.password', '密码')}
            rules={[{ required: true, message: t('login.passwordRequired', '请输入密码') }]}
          >
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          {askCode && (
            <Form.Item
              name="code"
              label={t('login.code', '动态验证码')}
              rules={[{ required: true, pattern: /^\d{6}$/, message: t('login.codeRequired', '请输入 6 位动态验证码') }]}
            >
              <Input
                prefix={<SafetyOutlined />}
                autoComplete="one-time-code"
                inputMode="numeric"
                maxLength={6}
                autoFocus
                data-testid="login-code"
              />
            </Form.Item>
          )}
          <Button type="primary" htmlType="submit" block loading={submitting} data-testid="login-submit">
            {t('login.submit', '登录')}
          </Button>
        </Form>
        <Typography.Paragraph type="secondary" style={{ marginTop: 16, marginBottom: 0, fontSize: 13 }}>
          {t('login.demoHint', '演示账号 admin / yifang-admin')}
        </Typography.Paragraph>
      </Card>
    </div>
  );
}
