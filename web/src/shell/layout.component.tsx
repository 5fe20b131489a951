/** The signed-in frame: side menu of modules, header with language switch and user, content. */
import { useEffect, useState, type ReactNode } from 'react';
import { Avatar, Button, Layout, Menu, Space, Tooltip, Typography, type MenuProps } from 'antd';
import { KeyOutlined, LogoutOutlined, MenuFoldOutlined, MenuUnfoldOutlined, UserOutlined } from '@ant-design/icons';
import { logout as endSession } from '../api/auth.resource.js';
import { setSession, type SessionUser } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import { LanguageSwitch } from './language-switch.component.js';
import { mayOpen, navItems, parentNavKey, selectedNavKey, type NavItem } from './navigation.js';
import { navigate } from './router.js';

const { Header, Sider, Content } = Layout;

function toMenuItems(items: NavItem[], user: SessionUser): MenuProps['items'] {
  return items
    .filter((item) => mayOpen(item, user))
    .map((item) =>
      item.children
        ? { key: item.key, icon: item.icon, label: item.label, children: toMenuItems(item.children, user) }
        : { key: item.key, icon: item.icon, label: <a href={`#${item.key}`}>{item.label}</a> },
    );
}

export interface AppLayoutProps {
  path: string;
  user: SessionUser;
  children: ReactNode;
}

export function AppLayout({ path, user, children }: AppLayoutProps) {
  const [collapsed, setCollapsed] = useState(false);
  const items = navItems();
  const selected = selectedNavKey(path, items);
  const parent = parentNavKey(selected, items);
  const [openKeys, setOpenKeys] = useState<string[]>(parent ? [parent] : []);

  useEffect(() => {
    if (parent) setOpenKeys((keys) => (keys.includes(parent) ? keys : [...keys, parent]));
  }, [parent]);

  // The server ends the session first (the token is refused from then on), then the tab forgets it.
  const logout = async () => {
    try {
      await endSession();
    } catch {
      // already ended or the server is unreachable: forget it here all the same
    }
    setSession(null);
    navigate('/');
  };

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Sider collapsible collapsed={collapsed} trigger={null} width={216} theme="dark">
        {/* The dark column spans the page; the menu inside stays in view while the content scrolls. */}
        <div className="yf-sider-inner">
          <a href="#/" className="yf-brand" aria-label={t('app.name', '医防')}>
            <img src="/favicon.svg" alt="" width={28} height={28} />
            {!collapsed && <span>{t('app.name', '医防')}</span>}
          </a>
          <Menu
            theme="dark"
            mode="inline"
            selectedKeys={[selected]}
            openKeys={collapsed ? undefined : openKeys}
            onOpenChange={(keys) => setOpenKeys(keys)}
            items={toMenuItems(items, user)}
          />
        </div>
      </Sider>
      <Layout>
        <Header className="yf-header">
          <Space size="middle">
            <Button
              type="text"
              aria-label={collapsed ? t('shell.expandMenu', '展开菜单') : t('shell.collapseMenu', '收起菜单')}
              icon={collapsed ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
              onClick={() => setCollapsed((c) => !c)}
            />
            <Typography.Text strong className="yf-header-title">
              {t('app.title', '区域公共卫生医防融合平台')}
            </Typography.Text>
          </Space>
          <Space size="middle">
            <LanguageSwitch size="small" />
            <Space size={8} data-testid="current-user">
              <Avatar size="small" icon={<UserOutlined />} style={{ background: '#0f7b6c' }} />
              <span>
                <Typography.Text>{user.displayName || user.username}</Typography.Text>
                {user.organization && (
                  <Typography.Text type="secondary" style={{ marginLeft: 6, fontSize: 12 }}>
                    {user.organization}
                  </Typography.Text>
                )}
              </span>
            </Space>
            <Tooltip title={t('shell.account', '我的账号（修改密码）')}>
              <Button type="text" icon={<KeyOutlined />} href="#/account" aria-label={t('shell.account', '我的账号（修改密码）')} />
            </Tooltip>
            <Tooltip title={t('shell.logout', '退出登录')}>
              <Button type="text" icon={<LogoutOutlined />} onClick={() => void logout()} aria-label={t('shell.logout', '退出登录')} />
            </Tooltip>
          </Space>
        </Header>
        <Content className="yf-content">{children}</Content>
      </Layout>
    </Layout>
  );
}
