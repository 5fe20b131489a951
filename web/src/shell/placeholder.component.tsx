import { Card, Result } from 'antd';
import { ToolOutlined } from '@ant-design/icons';
import { t } from '../i18n/i18n.js';

/** A module that is planned but not built yet. */
export function PlaceholderPage({ title, description }: { title: string; description?: string }) {
  return (
    <Card>
      <Result
        icon={<ToolOutlined style={{ color: '#0f7b6c' }} />}
        title={title}
        subTitle={description ?? t('placeholder.subtitle', '建设中：该模块正在开发，敬请期待。')}
        extra={<a href="#/">{t('placeholder.backHome', '返回工作台')}</a>}
      />
    </Card>
  );
}

export function NotFoundPage() {
  return (
    <Card>
      <Result
        status="404"
        title="404"
        subTitle={t('notFound.subtitle', '页面不存在。')}
        extra={<a href="#/">{t('placeholder.backHome', '返回工作台')}</a>}
      />
    </Card>
  );
}
