import { Segmented } from 'antd';
import { setLang, useLang, type Lang } from '../i18n/i18n.js';

/** 中文 / EN switch; the choice is remembered in localStorage. */
export function LanguageSwitch({ size = 'middle' }: { size?: 'small' | 'middle' | 'large' }) {
  const lang = useLang();
  return (
    <Segmented<Lang>
      data-testid="language-switch"
      size={size}
      value={lang}
      onChange={(value) => setLang(value)}
      options={[
        { label: '中文', value: 'zh-CN' },
        { label: 'EN', value: 'en' },
      ]}
    />
  );
}
