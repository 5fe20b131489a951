/**
 * Finding a resident while typing (the check-in desk): a name, pinyin initials, an ID number or a
 * phone offers the matching persons (GET /api/residents/search); choosing one puts its record id
 * in the field. Anything else typed (a resident id) is kept as it is.
 */
import { useEffect, useState, type CSSProperties } from 'react';
import { AutoComplete, Input, Space, Tag, Typography } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { genderLabel, maskIdNumber } from '../shared/format.js';
import { searchResidents, searchable, type ResidentHit } from './merged-record.resource.js';

function optionLabel(hit: ResidentHit) {
  return (
    <Space size={6} wrap data-testid="resident-option">
      <Typography.Text strong>{hit.name ?? t('resident.unnamed', '（未登记姓名）')}</Typography.Text>
      {hit.gender && <span>{genderLabel(hit.gender)}</span>}
      {hit.birthDate && <span>{hit.birthDate}</span>}
      {hit.idNumber && <span className="yf-mono">{maskIdNumber(hit.idNumber)}</span>}
      {hit.phone && <span>{hit.phone}</span>}
      {hit.facilities.map((f) => (
        <Tag key={f.id}>{f.name ?? f.id}</Tag>
      ))}
    </Space>
  );
}

export function ResidentPicker({
  value,
  onChange,
  placeholder,
  style,
}: {
  value: string;
  onChange(id: string): void;
  placeholder?: string;
  style?: CSSProperties;
}) {
  const [text, setText] = useState('');
  const [hits, setHits] = useState<ResidentHit[]>([]);
  useEffect(() => {
    if (!searchable(text)) {
      setHits([]);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      searchResidents(text.trim(), 10, 0, controller.signal)
        .then((r) => setHits(r.rows))
        .catch((e: unknown) => {
          if (!isAbort(e)) setHits([]);
        });
    }, 250);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text]);
  return (
    <AutoComplete
      data-testid="resident-picker"
      value={value}
      style={style}
      options={hits.map((h) => ({ value: h.recordId, label: optionLabel(h) }))}
      notFoundContent={searchable(text) ? t('residents.picker.noMatch', '没有找到匹配的居民') : undefined}
      onSearch={setText}
      onChange={(v: string) => onChange(v)}
      onSelect={(v: string) => onChange(v)}
    >
      <Input
        placeholder={placeholder ?? t('residents.findPlaceholder', '输入姓名、拼音首字母、身份证号或电话')}
        title={t('residents.picker.hint', '可输入姓名、拼音首字母、身份证号或电话查找居民，或直接输入居民编号')}
      />
    </AutoComplete>
  );
}
