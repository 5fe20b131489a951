/** 我的健康档案 (read-only, in words) and 疫苗接种 (doses given, what is due) for the resident or a ward. */
import { useState } from 'react';
import { t } from '../i18n/i18n-core.js';
import { portalApi, type RecordAnswer, type ScheduleAnswer } from './portal-api.js';
import { useLoad } from './use-load.js';

type PortalItemKind = RecordAnswer['items'][number]['kind'];

export function kindLabel(kind: PortalItemKind): string {
  const labels: Record<PortalItemKind, () => string> = {
    visit: () => t('portal.kind.visit', '就诊'),
    diagnosis: () => t('portal.kind.diagnosis', '诊断'),
    result: () => t('portal.kind.result', '检查检验'),
    immunization: () => t('portal.kind.immunization', '预防接种'),
    'follow-up': () => t('portal.kind.followUp', '随访'),
    'care-plan': () => t('portal.kind.carePlan', '健康管理计划'),
    'home-reading': () => t('portal.kind.homeReading', '自测数据'),
  };
  return labels[kind]();
}

const KINDS: PortalItemKind[] = ['visit', 'diagnosis', 'result', 'immunization', 'follow-up', 'care-plan', 'home-reading'];

export function PortalRecord({ forId }: { forId?: string }) {
  const [kind, setKind] = useState<PortalItemKind | undefined>();
  const { data, error, loading } = useLoad((signal) => portalApi.record(forId, kind, signal), [forId, kind]);
  return (
    <section aria-labelledby="pt-record-title">
      <h2 id="pt-record-title">{t('portal.record.title', '健康档案')}</h2>
      <div className="pt-chips" role="group" aria-label={t('portal.record.filter', '按类别查看')}>
        <button type="button" aria-pressed={!kind} onClick={() => setKind(undefined)}>
          {t('portal.record.all', '全部')}
        </button>
        {KINDS.map((k) => (
          <button key={k} type="button" aria-pressed={kind === k} onClick={() => setKind(k)}>
            {kindLabel(k)}
          </button>
        ))}
      </div>
      {error && (
        <p className="pt-error" role="alert">
          {error}
        </p>
      )}
      {loading && !data && <p className="pt-muted">{t('portal.loading', '加载中…')}</p>}
      {data && (
        <>
          <p className="pt-muted">
            {t('portal.record.summary', '{name}，共 {total} 条记录（合并自 {records} 份机构档案）', {
              name: data.person.name,
              total: data.total,
              records: data.records,
            })}
          </p>
          {data.items.length === 0 ? (
            <p className="pt-muted">{t('portal.record.empty', '暂无记录')}</p>
          ) : (
            <ol className="pt-list">
              {data.items.map((i) => (
                <li key={i.reference}>
                  <span className="pt-tag">{kindLabel(i.kind)}</span>
                  <strong>{i.title}</strong>
                  <span className="pt-muted">{[i.date, i.place].filter(Boolean).join(' · ')}</span>
                  {i.detail && <span>{i.detail}</span>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

function statusLabel(s: ScheduleAnswer['due'][number]['status']): string {
  return s === 'overdue'
    ? t('portal.schedule.overdue', '已逾期')
    : s === 'due'
      ? t('portal.schedule.due', '可接种')
      : t('portal.schedule.upcoming', '即将到期');
}

type Service = ScheduleAnswer['services'][number];

/** The service's words: the server's Chinese, or the English text of its kind. */
function serviceTitle(s: Service): string {
  if (s.kind === 'follow-up') {
    const disease = s.key.slice('follow-up:'.length);
    return t(`portal.service.followUp.${disease}`, s.title);
  }
  return t(`portal.service.${s.kind}`, s.title);
}

function serviceDetail(s: Service): string {
  if (s.kind === 'bp-screening') return t('portal.service.detail.bp', s.detail);
  // Follow-ups: one of primary care's three reasons (常规随访, 调整治疗后2周内随访, 转诊后随访).
  return s.kind === 'follow-up' ? t(`portal.service.detail.${s.detail}`, s.detail) : s.detail;
}

export function PortalSchedule({ forId }: { forId?: string }) {
  const { data, error } = useLoad((signal) => portalApi.schedule(forId, signal), [forId]);
  return (
    <section aria-labelledby="pt-schedule-title">
      <h2 id="pt-schedule-title">{t('portal.schedule.title', '预防接种')}</h2>
      {error && (
        <p className="pt-error" role="alert">
          {error}
        </p>
      )}
      {data && (
        <>
          {data.services.length > 0 && (
            <>
              <h3>{t('portal.schedule.servicesTitle', '随访与检查')}</h3>
              <ul className="pt-list">
                {data.services.map((s) => (
                  <li key={s.key} className={s.overdue ? 'pt-warn' : undefined}>
                    <strong>{serviceTitle(s)}</strong>
                    <span>
                      {s.overdue ? t('portal.schedule.overdue', '已逾期') : t('portal.schedule.serviceDue', '待完成')}
                      {s.dueDate ? ` · ${s.dueDate}` : ''}
                    </span>
                    {s.detail && <span className="pt-muted">{serviceDetail(s)}</span>}
                  </li>
                ))}
              </ul>
            </>
          )}
          <h3>{t('portal.schedule.dueTitle', '待接种')}</h3>
          {data.due.length === 0 ? (
            <p className="pt-muted">{t('portal.schedule.none', '目前没有需要接种的疫苗')}</p>
          ) : (
            <ul className="pt-list">
              {data.due.map((d) => (
                <li key={`${d.vaccine}-${d.dose}`} className={d.status === 'overdue' ? 'pt-warn' : undefined}>
                  <strong>{t('portal.schedule.dose', '{name} 第{dose}剂', { name: d.name, dose: d.dose })}</strong>
                  <span>
                    {statusLabel(d.status)} · {d.dueDate}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <h3>{t('portal.schedule.givenTitle', '已接种')}</h3>
          <ul className="pt-list">
            {data.given.map((g, i) => (
              <li key={`${g.vaccine}-${i}`}>
                <strong>{g.name}</strong>
                <span className="pt-muted">{g.date}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
