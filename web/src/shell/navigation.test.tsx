import { describe, expect, it } from 'vitest';
import { mayOpen, navItems, parentNavKey, selectedNavKey } from './navigation.js';

describe('side menu selection', () => {
  const items = navItems();

  it('lights the entry of a list, of a record under it, and opens its group', () => {
    expect(selectedNavKey('/residents', items)).toBe('/residents');
    expect(selectedNavKey('/residents/p-1', items)).toBe('/residents');
    expect(selectedNavKey('/chronic/registry', items)).toBe('/chronic/registry');
    expect(selectedNavKey('/chronic', items)).toBe('/chronic');
    expect(parentNavKey(selectedNavKey('/surveillance/alerts/7', items), items)).toBe('surveillance');
  });

  it('lights 首页 only on the home page, nothing on a page no entry leads to', () => {
    expect(selectedNavKey('/', items)).toBe('/');
    expect(selectedNavKey('/care/immunization/p-1', items)).toBe('');
    expect(parentNavKey('', items)).toBeUndefined();
  });

  it('labels the entries in Chinese', () => {
    expect(items.map((i) => i.label)).toContain('居民档案');
    expect(items.find((i) => i.key === 'admin')?.children?.map((c) => c.label)).toEqual(['用户管理', '审计日志']);
  });

  it('shows an auditor the home page and the audit trail, no screens of residents', () => {
    const visible = (items: ReturnType<typeof navItems>, user: { roles: string[] }): string[] =>
      items.filter((i) => mayOpen(i, user)).flatMap((i) => [i.key, ...visible(i.children ?? [], user)]);
    const auditor = visible(navItems(), { roles: ['auditor'] });
    expect(auditor).toEqual(['/', 'admin', '/admin/audit']);
    expect(visible(navItems(), { roles: ['family-doctor'] })).toContain('/chronic');
  });
});
