/**
 * 数据正在处理中: after a district's records arrive in bulk (an import, a first start with the
 * demo district) the change-log processors take minutes to derive registers, programme lists
 * and indicator figures from them, and until then those figures read 0. Screens that show such
 * figures mount this banner so a user does not take the zeros for a district without data.
 *
 * It asks GET /api/processors/status once on mount; only while some processor is behind does it
 * ask again, every few seconds (not while the tab is hidden), and it stops once all have caught
 * up. Nothing is shown when nothing is pending or the status cannot be read.
 */
import { useEffect, useRef, useState, type CSSProperties } from 'react';
import { Alert, Progress } from 'antd';
import type { ProcessorStatus } from '../../../src/app/platform-routes.js';
import { apiRequest, isAbort } from '../api/http.js';
import { getLang, t } from '../i18n/i18n.js';

export type { ProcessorStatus };

/** Between two looks while the processors catch up (tests shorten it). */
export const derivingPoll = { ms: 5000 };

export const fetchProcessorStatus = (signal?: AbortSignal) =>
  apiRequest<ProcessorStatus>('/api/processors/status', { signal, accept: 'application/json' });

/** The processors still behind, furthest first, in the user's language (at most three named). */
function behindLabels(status: ProcessorStatus): string {
  const lang = getLang();
  const names = status.processors
    .filter((p) => !p.caughtUp)
    .sort((a, b) => b.lag - a.lag)
    .map((p) => (lang === 'zh-CN' ? p.label.zh : p.label.en));
  const sep = lang === 'zh-CN' ? '、' : ', ';
  return names.length > 3 ? `${names.slice(0, 3).join(sep)}${t('deriving.more', ' 等')}` : names.join(sep);
}

export function DerivingBanner({
  onCaughtUp,
  pollMs = derivingPoll.ms,
  style = { marginBottom: 16 },
}: {
  /** Called once when a backlog seen by this banner is worked through (the page reloads its figures). */
  onCaughtUp?: () => void;
  pollMs?: number;
  style?: CSSProperties;
}) {
  const [status, setStatus] = useState<ProcessorStatus | null>(null);
  // The largest backlog seen since the page opened: the progress hint counts down from it.
  const [start, setStart] = useState(0);
  const caughtUp = useRef(onCaughtUp);
  caughtUp.current = onCaughtUp;

  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let behind = false;
    const later = (ms: number) => {
      timer = setTimeout(look, ms);
    };
    function look() {
      // A tab in the background needs no news: look again when it may be seen.
      if (typeof document !== 'undefined' && document.hidden) return later(pollMs);
      fetchProcessorStatus(ctrl.signal).then(
        (s) => {
          setStatus(s);
          if (s.catchingUp) {
            behind = true;
            setStart((n) => Math.max(n, s.pending));
            later(pollMs);
          } else if (behind) {
            behind = false;
            caughtUp.current?.();
          }
        },
        (e: unknown) => {
          if (isAbort(e)) return;
          // Mid-backlog a failed look (a restart, the network) is tried again, less often; a
          // status never read (not signed in, an older server) leaves the page as it was.
          if (behind) later(pollMs * 2);
          else setStatus(null);
        },
      );
    }
    look();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [pollMs]);

  if (!status?.catchingUp) return null;
  const done = start > 0 ? Math.max(0, Math.min(99, Math.floor(((start - status.pending) / start) * 100))) : 0;
  const count = status.pending.toLocaleString(getLang());
  return (
    <Alert
      type="info"
      showIcon
      data-testid="deriving-banner"
      style={style}
      message={t('deriving.title', '数据正在处理中：还有约 {n} 条记录待计算，指标和名单可能暂未包含最新数据', { n: count })}
      description={
        <>
          <div>{t('deriving.working', '正在计算：{names}', { names: behindLabels(status) })}</div>
          <Progress
            percent={done}
            size="small"
            status="active"
            style={{ maxWidth: 360, marginBottom: 0 }}
            format={(p) => t('deriving.done', '已完成 {p}%', { p: p ?? 0 })}
          />
          <div style={{ color: 'rgba(0,0,0,0.45)' }}>
            {onCaughtUp
              ? t('deriving.hintAuto', '处理完成后本页数字会自动更新，无需重复导入。')
              : t('deriving.hintReload', '处理完成后请刷新本页，无需重复导入。')}
          </div>
        </>
      }
    />
  );
}
