/** A day field holding 'YYYY-MM-DD' text (what the API takes), shown as 2026-03-01 in every browser locale. */
import type { CSSProperties } from 'react';
import { DatePicker } from 'antd';
import dayjs from 'dayjs';

export function DayInput({
  value,
  onChange,
  disabled,
  style,
  id,
  'data-testid': testId,
}: {
  value?: string | null;
  onChange?(day: string | undefined): void;
  disabled?: boolean;
  style?: CSSProperties;
  id?: string;
  'data-testid'?: string;
}) {
  const parsed = value ? dayjs(value, 'YYYY-MM-DD') : null;
  return (
    <DatePicker
      id={id}
      data-testid={testId}
      format="YYYY-MM-DD"
      placeholder="YYYY-MM-DD"
      value={parsed?.isValid() ? parsed : null}
      disabled={disabled}
      style={style ?? { width: 180 }}
      onChange={(d) => onChange?.(d ? d.format('YYYY-MM-DD') : undefined)}
    />
  );
}
