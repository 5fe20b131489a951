/**
 * 健康管理站: check a resident in and see everything due — follow-up, first-visit blood
 * pressure, vaccines, education, referral returns, suspected cases, report cards to complete —
 * and complete items there.
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Empty, List, Space, Tag } from 'antd';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { checkIn, getDueServices, issueEducation, type DueItem } from '../chronic/chronic.resource.js';
import { FollowUpDrawer } from '../chronic/follow-up.component.js';
import { diseaseLabel } from '../chronic/labels.js';
import { ResidentPicker } from '../residents/resident-picker.component.js';

const KIND_COLOR: Record<string, string> = {
  'follow-up': 'red',
  'bp-screening': 'volcano',
  vaccine: 'blue',
  education: 'green',
  'referral-return': 'purple',
  confirmation: 'orange',
  'report-card': 'magenta',
};
const kindLabel = (kind: string) =>
  ({
    'follow-up': t('care.kind.follow-up', '随访'),
    'bp-screening': t('care.kind.bp-screening', '首诊测血压'),
    vaccine: t('care.kind.vaccine', '疫苗'),
    education: t('care.kind.education', '健康教育'),
    'referral-return': t('care.kind.referral-return', '转诊'),
    confirmation: t('care.kind.confirmation', '待确诊'),
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
  const [followUp, setFollowUp] = useState<DueItem | null>(null);
  const load = async (pid: string, register: boolean) => {
    try {
      const r = register ? await checkIn(pid) : await getDueServices(pid);
      setItems(r.items);
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
          placeholder={t('care.patientId', '居民编号（Patient 或 Person）')}
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
        <Alert type="info" showIcon message={t('care.checkin.help', '输入居民编号后登记到诊，系统列出该居民所有待办的医防服务。')} />
      ) : items.length === 0 ? (
        <Empty description={t('care.nothingDue', '暂无待办服务')} />
      ) : (
        <Card title={t('care.dueCount', '待办服务 {n} 项', { n: items.length })}>
          <List
            dataSource={items}
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
                      {item.overdue && <Tag color="red">{t('care.overdue', '逾期')}</Tag>}
                    </Space>
                  }
                  description={`${itemDetail(item)}${item.dueDate ? ` · ${t('care.dueDate', '应于 {date}', { date: item.dueDate })}` : ''}`}
                />
              </List.Item>
            )}
          />
        </Card>
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
