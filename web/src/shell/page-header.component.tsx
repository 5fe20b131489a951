import type { ReactNode } from 'react';
import { Breadcrumb, Typography } from 'antd';

export interface Crumb {
  title: string;
  href?: string;
}

/** Title row of a page, with breadcrumbs and optional actions on the right. */
export function PageHeader({ title, crumbs, extra }: { title: ReactNode; crumbs?: Crumb[]; extra?: ReactNode }) {
  return (
    <div className="yf-page-header">
      {crumbs && crumbs.length > 0 && (
        <Breadcrumb items={crumbs.map((c) => ({ title: c.href ? <a href={c.href}>{c.title}</a> : c.title }))} />
      )}
      <div className="yf-page-header-row">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {title}
        </Typography.Title>
        {extra && <div>{extra}</div>}
      </div>
    </div>
  );
}
