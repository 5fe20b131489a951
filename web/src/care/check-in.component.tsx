/**
 * 健康管理站: check a resident in and see everything due — follow-up, first-visit blood
 * pressure, vaccines, education, referral returns, suspected cases, report cards to complete —
 * and complete items there.
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Empty, List, Space, Tag } from 'antd';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { checkIn, getDueServices, issueEducation, type DueItem } from '../chronic/chronic.resource.js';
import { FollowUpDrawer } from '../chronic/follow-up.component.js';
import { diseaseLabel } from '../chronic/labels.js';
import { ResidentPicker } from '../residents/resident-picker.component.js';
import { genderLabel } from '../shared/format.js';
import { daysBetween, todayInChina } from '../../../src/shared/dates.js';
import type { ResidentSummary } from '../../../src/primary-care/care/schemas.js';

/** How late or how soon, in words: 逾期 5 年 / 逾期 3 个月 / 逾期 12 天, 今日到期, 5 天后到期. */
export function dueText(dueDate: string, today: string): string {
  const d = daysBetween(dueDate, today);
  if (d > 0) {
    if (d >= 365) return t('care.overdueYears', '逾期 {n} 年', { n: Math.floor(d / 365) });
    if (d >= 30) return t('care.overdueMonths', '逾期 {n} 个月', { n: Math.floor(d / 30) });
    return t('care.overdueDays', '逾期 {n} 天', { n: d });
  }
  if (d === 0) return t('care.dueToday', '今日到期');
  return t('care.dueIn', '{n} 天后到期（{date}）', { n: -d, date: dueDate });
}

type Urgency = 'overdue' | 'now' | 'later';
/** Overdue first, then what is due within a week (or has no date), then the rest; by due date within each. */
export function byUrgency(items: DueItem[], today: string): { urgency: Urgency; items: DueItem[] }[] {
  const urgency = (i: DueItem): Urgency =>
    i.overdue || (i.dueDate !== null && i.dueDate < today) ? 'overdue' : !i.dueDate || daysBetween(today, i.dueDate) <= 7 ? 'now' : 'later';
  const groups: { urgency: Urgency; items: DueItem[] }[] = (['overdue', 'now', 'later'] as const).map((u) => ({
    urgency: u,
    items: items.filter((i) => urgency(i) === u).sort((a, b) => (a.dueDate ?? '9999').localeCompare(b.dueDate ?? '9999')),
  }));
  return groups.filter((g) => g.items.length);
}

const URGENCY_TITLE: Record<Urgency, () => string> = {
  overdue: () => t('care.group.overdue', '已逾期'),
  now: () => t('care.group.now', '本次就诊应办'),
  later: () => t('care.group.later', '近期到期'),
};

function ResidentHeader({ resident }: { resident: ResidentSummary }) {
  return (
    <Card size="small" style={{ marginBottom: 16 }} data-testid="checkin-resident">
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 5 }}>
        <Descriptions.Item label={t('care.res.name', '姓名')}>
          <strong>{resident.name ?? t('resident.unnamed', '（未登记姓名）')}</strong>
        </Descriptions.Item>
        <Descriptions.Item label={t('care.res.gender', '性别')}>{resident.gender ? genderLabel(resident.gender) : '—'}</Descriptions.Item>
        <Descriptions.Item label={t('care.res.age', '年龄')}>
          {resident.age === null ? '—' : t('care.res.years', '{n} 岁', { n: resident.age })}
        </Descriptions.Item>
        <Descriptions.Item label={t('care.res.team', '签约团队')}>{resident.team ?? t('care.res.noTeam', '未签约')}</Descriptions.Item>
        <Descriptions.Item label={t('care.res.populations', '重点人群')}>
          {resident.keyPopulations.length
            ? resident.keyPopulations.map((p) => (
                <Tag key={p.code} color="blue">
                  {t(`care.population.${p.code}`, p.label)}
                </Tag>
              ))
            : '—'}
        </Descriptions.Item>
      </Descriptions>
    </Card>
  );
}

const KIND_COLOR: Record<string, string> = {
  'follow-up': 'red',
  'bp-screening': 'volcano',
  vaccine: 'blue',
  education: 'green',
  'referral-return': 'purple',
  confirmation: 'orange',
  'report-card': 'magenta',
  programme: 'cyan',
};
const kindLabel = (kind: string) =>
  ({
    'follow-up': t('care.kind.follow-up', '随访'),
    'bp-screening': t('care.kind.bp-screening', '首诊测血压'),
    vaccine: t('care.kind.vaccine', '疫苗'),
    education: t('care.kind.education', '健康教育'),
    'referral-return': t('care.kind.referral-return', '转诊'),
    confirmation: t('care.kind.confirmation', '待确诊'),
    programme: t('care.kind.programme', '公卫项目'),
    'report-card': t('care.kind.report-card', '报告卡'),
  })[kind] ?? kind;

/** The server sends zh-CN text plus message keys; other languages are built from the keys. */
function itemParams(item: DueItem): Record<string, string | number> {
  const p = { ...(item.i18n?.params ?? {}) };
  if (p.disease === 'htn' || p.disease === 'dm') p.disease = diseaseLabel(p.disease);
  return p;
}
const itemTitle = (item: DueItem) => (item.i18n ? t(item.i18n.title, item.title, itemParams(item)) : item.title);
const itemDetail = (item: DueItem) => (item.i18n?.detail ? t(item.i18n.detail, item.detail, itemParams(item)) : item.detail);

export function CheckInPage({ patientId }: { patientId?: string }) {
  const { message } = App.useApp();
  const [id, setId] = useState(patientId ?? '');
  const [items, setItems] = useState<DueItem[] | null>(null);
  const [resident, setResident] = useState<ResidentSummary>();
  const today = todayInChina();
  const [followUp, setFollowUp] = useState<DueItem | null>(null);
  const load = async (pid: string, register: boolean) => {
    try {
      const r = register ? await checkIn(pid) : await getDueServices(pid);
      setItems(r.items);
      setResident(r.resident);
      if (register) message.success(t('care.checkedIn', '已登记到诊'));
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  const complete = async (item: DueItem) => {
    if (item.kind === 'education') {
      await issueEducation(item.patientId, [item.key.slice('education:'.length)]);
      message.success(t('care.eduGiven', '已发放健康教育处方'));
      await load(id, false);
    } else if (item.kind === 'follow-up' || item.kind === 'bp-screening') setFollowUp(item);
    else if (item.kind === 'vaccine') window.location.hash = `#/care/immunization/${item.patientId}`;
    else if (item.kind === 'report-card' && item.cardId)
      window.location.hash = `#/surveillance/reports?open=${encodeURIComponent(item.cardId)}`;
  };
  return (
    <>
      <PageHeader
        title={t('care.checkin.title', '健康管理站 · 到诊服务')}
        crumbs={[{ title: t('nav.chronic', '慢病与家庭医生') }, { title: t('care.checkin', '到诊服务') }]}
      />
      <Space style={{ marginBottom: 16 }}>
        <ResidentPicker
          placeholder={t('care.findResident', '姓名、拼音首字母、身份证号或电话')}
          value={id}
          onChange={setId}
          style={{ width: 360 }}
        />
        <Button type="primary" disabled={!id} onClick={() => void load(id, true)}>
          {t('care.register', '登记到诊')}
        </Button>
        <Button disabled={!id} onClick={() => void load(id, false)}>
          {t('care.viewDue', '仅查看待办')}
        </Button>
      </Space>
      {items === null ? (
        <Alert
          type="info"
          showIcon
          message={t('care.checkin.help', '输入姓名、拼音首字母、身份证号或电话找到居民，登记到诊后系统列出该居民所有待办的医防服务。')}
        />
      ) : items.length === 0 ? (
        <>
          {resident && <ResidentHeader resident={resident} />}
          <Empty description={t('care.nothingDue', '暂无待办服务')} />
        </>
      ) : (
        <>
          {resident && <ResidentHeader resident={resident} />}
          {byUrgency(items, today).map((group) => (
            <Card
              key={group.urgency}
              size="small"
              style={{ marginBottom: 16 }}
              data-testid={`due-group-${group.urgency}`}
              title={`${URGENCY_TITLE[group.urgency]()} · ${t('care.itemsCount', '{n} 项', { n: group.items.length })}`}
            >
              <List
                dataSource={group.items}
                renderItem={(item) => (
                  <List.Item
                    actions={
                      ['education', 'follow-up', 'bp-screening', 'vaccine', 'report-card'].includes(item.kind)
                        ? [
                            <Button key="do" size="small" type="link" onClick={() => void complete(item)}>
                              {item.kind === 'education'
                                ? t('care.give', '发放')
                                : item.kind === 'vaccine'
                                  ? t('care.prescription', '免疫处方')
                                  : item.kind === 'report-card'
                                    ? t('care.openCard', '填报')
                                    : t('care.record', '录入')}
                            </Button>,
                          ]
                        : []
                    }
                  >
                    <List.Item.Meta
                      title={
                        <Space>
                          <Tag color={KIND_COLOR[item.kind]}>{kindLabel(item.kind)}</Tag>
                          {itemTitle(item)}
                          {item.dueDate && (
                            <Tag color={group.urgency === 'overdue' ? 'red' : 'default'} data-testid="due-when">
                              {dueText(item.dueDate, today)}
                            </Tag>
                          )}
                          {!item.dueDate && item.overdue && <Tag color="red">{t('care.overdue', '逾期')}</Tag>}
                        </Space>
                      }
                      description={itemDetail(item)}
                    />
                  </List.Item>
                )}
              />
            </Card>
          ))}
        </>
      )}
      {followUp && (
        <FollowUpDrawer
          row={{ patientId: followUp.patientId, name: null, disease: followUp.key.endsWith('dm') ? 'dm' : 'htn' }}
          onClose={() => setFollowUp(null)}
          onSaved={() => void load(id, false)}
        />
      )}
    </>
  );
}
