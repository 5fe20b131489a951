/**
 * The investigation's people: 密接候选 (candidates proposed from the household, co-stays, the
 * class or the care home, confirmed or rejected) and 密切接触者 (confirmed contacts with their
 * follow-up window, last check and overdue days, a daily check, and 转为疑似病例).
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Empty, Input, Modal, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { todayInChina } from '../../../src/shared/dates.js';
import { CheckModal, type CheckTarget } from './check-form.component.js';
import {
  confirmCandidate,
  contactToSuspect,
  followUps,
  listCandidates,
  listContacts,
  recomputeCandidates,
  rejectCandidate,
  type Candidate,
  type CandidateList,
  type Contact,
  type ContactList,
  type OutsideContact,
  type WorklistRow,
} from './investigation.resource.js';
import { candidateStatusLabel, chinaTime, contactStatusLabel, daysBetween, kindLabel } from './labels.js';
import { useNames } from './useNames.js';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const nowrap = { whiteSpace: 'nowrap' } as const;

/**
 * An exposure type in words: a confirmed candidate's type reads '共同居住 household' (the words
 * and the kind); the kind's words in the current language stand for both.
 */
export function exposureType(type: string): string {
  const m = /^(.*\S)\s+(household|room|ward|department|school-class|care-home)$/.exec(type);
  return m ? kindLabel(m[2]!) : type;
}

/** An exposure window in China time; a whole-day window as days. */
function windowText(start: string, end: string): string {
  return `${chinaTime(start)} — ${chinaTime(end)}`;
}

export function CandidatesTab({ investigationId, readOnly, onChanged }: { investigationId: number; readOnly: boolean; onChanged(): void }) {
  const [data, setData] = useState<CandidateList>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<number | 'compute'>();
  const [rejecting, setRejecting] = useState<Candidate>();
  const [reason, setReason] = useState('');
  const [tick, setTick] = useState(0);
  const { message } = App.useApp();
  useEffect(() => {
    const ctrl = new AbortController();
    listCandidates(investigationId, ctrl.signal)
      .then((d) => {
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(errorText(e));
      });
    return () => ctrl.abort();
  }, [investigationId, tick]);
  const names = useNames(data?.items.map((c) => c.patientId) ?? []);
  const run = async (key: number | 'compute', action: () => Promise<unknown>, done: string) => {
    setBusy(key);
    try {
      await action();
      message.success(done);
      setTick((n) => n + 1);
      onChanged();
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setBusy(undefined);
    }
  };
  const columns: TableColumnsType<Candidate> = [
    {
      title: t('inv.cand.name', '姓名'),
      key: 'name',
      render: (_, c) => (
        <span data-testid="candidate-name" style={nowrap}>
          {names.resident(c.patientId)}
        </span>
      ),
    },
    { title: t('inv.cand.kind', '接触类型'), key: 'kind', render: (_, c) => <Tag color="blue">{kindLabel(c.kind)}</Tag> },
    { title: t('inv.cand.place', '地点'), dataIndex: 'place' },
    { title: t('inv.cand.window', '暴露时段'), key: 'window', render: (_, c) => windowText(c.windowStart, c.windowEnd) },
    {
      title: t('inv.cand.status', '状态'),
      key: 'status',
      render: (_, c) => (
        <Space size={4} direction="vertical">
          <Tag color={c.status === 'confirmed' ? 'success' : c.status === 'rejected' ? 'default' : 'gold'}>
            {candidateStatusLabel(c.status)}
          </Tag>
          {c.reason && <Typography.Text type="secondary">{c.reason}</Typography.Text>}
        </Space>
      ),
    },
    {
      title: t('inv.actions', '操作'),
      key: 'actions',
      render: (_, c) =>
        c.status === 'proposed' && !readOnly ? (
          <Space>
            <Button
              size="small"
              type="primary"
              loading={busy === c.id}
              data-testid="candidate-confirm"
              onClick={() =>
                void run(
                  c.id,
                  () => confirmCandidate(investigationId, c.id),
                  t('inv.cand.confirmedMsg', '已确认为密切接触者，医学观察期已生成'),
                )
              }
            >
              {t('inv.cand.confirm', '确认为密接')}
            </Button>
            <Button
              size="small"
              data-testid="candidate-reject"
              onClick={() => {
                setReason('');
                setRejecting(c);
              }}
            >
              {t('inv.cand.reject', '排除')}
            </Button>
          </Space>
        ) : null,
    },
  ];
  const proposed = data?.items.filter((c) => c.status === 'proposed').length ?? 0;
  return (
    <div data-testid="candidates">
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      {data?.truncated && (
        <Alert
          type="warning"
          showIcon
          data-testid="candidates-truncated"
          style={{ marginBottom: 12 }}
          message={t(
            'inv.cand.truncated',
            '病例所到地点同期就诊/住院记录过多（超过 20,000 条），仅按时间先后使用了前 20,000 条：同住院/同科室候选可能不全，请结合流调核实',
          )}
        />
      )}
      <Space style={{ marginBottom: 12 }} wrap>
        <Typography.Text>
          {t('inv.cand.summary', '系统根据同住家庭、同病房/病区/科室住院、同班级、同机构自动推荐；待确认 {n} 人', { n: proposed })}
        </Typography.Text>
        {data?.computedAt && (
          <Typography.Text type="secondary">
            {t('inv.cand.computedAt', '计算于 {time}', { time: chinaTime(data.computedAt) })}
          </Typography.Text>
        )}
        {!readOnly && (
          <Button
            size="small"
            loading={busy === 'compute'}
            onClick={() => void run('compute', () => recomputeCandidates(investigationId), t('inv.cand.recomputed', '已重新计算密接候选'))}
          >
            {t('inv.cand.recompute', '重新计算')}
          </Button>
        )}
      </Space>
      <Table
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={data?.items ?? []}
        loading={!data && !error}
        locale={{ emptyText: <Empty description={t('inv.cand.none', '暂无密接候选')} /> }}
        data-testid="candidates-table"
        pagination={{ pageSize: 20, showTotal: (n) => t('inv.cand.total', '共 {n} 人', { n }), hideOnSinglePage: false }}
      />
      <Modal
        open={!!rejecting}
        title={t('inv.cand.rejectTitle', '排除密接候选 · {name}', { name: rejecting ? names.resident(rejecting.patientId) : '' })}
        okText={t('inv.cand.reject', '排除')}
        cancelText={t('inv.cancel', '取消')}
        confirmLoading={busy === rejecting?.id}
        onCancel={() => setRejecting(undefined)}
        onOk={() => {
          const c = rejecting!;
          void run(
            c.id,
            () => rejectCandidate(investigationId, c.id, reason.trim() || undefined),
            t('inv.cand.rejectedMsg', '已排除'),
          ).then(() => setRejecting(undefined));
        }}
      >
        <Input.TextArea
          rows={3}
          value={reason}
          maxLength={1000}
          placeholder={t('inv.cand.reasonPlaceholder', '排除原因，如：暴露期间不在家')}
          onChange={(e) => setReason(e.target.value)}
          data-testid="reject-reason"
        />
      </Modal>
    </div>
  );
}

interface FollowUpState {
  lastCheck?: string;
  overdueDays: number;
}

/**
 * Last check and overdue days per contact, read from the follow-up worklists of the contacts'
 * health centres (the contacts' answer does not carry them).
 */
function useFollowUpState(contacts: Contact[], tick: number): Map<number, FollowUpState> {
  const [state, setState] = useState<Map<number, FollowUpState>>(new Map());
  const orgs = [...new Set(contacts.filter((c) => c.organization && c.status === 'monitoring').map((c) => c.organization!))]
    .sort()
    .join('|');
  useEffect(() => {
    if (!orgs) {
      setState(new Map());
      return;
    }
    const ctrl = new AbortController();
    Promise.all(
      orgs
        .split('|')
        .flatMap((organization) => [
          followUps({ organization, status: 'done' }, ctrl.signal),
          followUps({ organization, status: 'overdue' }, ctrl.signal),
        ]),
    )
      .then((lists) => {
        const next = new Map<number, FollowUpState>();
        const of = (id: number) => next.get(id) ?? (next.set(id, { overdueDays: 0 }), next.get(id)!);
        for (const row of lists.flatMap((l) => l.items) as WorklistRow[]) {
          const s = of(row.contactId);
          if (row.status === 'done' && (!s.lastCheck || row.day > s.lastCheck)) s.lastCheck = row.day;
          if (row.status === 'overdue') s.overdueDays += 1;
        }
        setState(next);
      })
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [orgs, tick]);
  return state;
}

export function ContactsTab({
  investigationId,
  readOnly,
  refresh,
  onCase,
}: {
  investigationId: number;
  readOnly: boolean;
  /** Changes when the candidates were decided, to read the contacts again. */
  refresh: number;
  onCase(id: number): void;
}) {
  const [data, setData] = useState<ContactList>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const [checking, setChecking] = useState<CheckTarget>();
  const [suspect, setSuspect] = useState<Contact>();
  const [note, setNote] = useState('');
  const [saving, setSaving] = useState(false);
  const { message } = App.useApp();
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    const ctrl = new AbortController();
    listContacts(investigationId, ctrl.signal)
      .then((d) => {
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(errorText(e));
      });
    return () => ctrl.abort();
  }, [investigationId, tick, refresh]);
  const names = useNames(data?.items.map((c) => c.patientId) ?? [], data?.items.map((c) => c.organization ?? '') ?? []);
  const follow = useFollowUpState(data?.items ?? [], tick + refresh);
  const today = todayInChina();

  const columns: TableColumnsType<Contact> = [
    {
      title: t('inv.contact.name', '姓名'),
      key: 'name',
      render: (_, c) => (
        <span data-testid="contact-name" style={nowrap}>
          {names.resident(c.patientId)}
        </span>
      ),
    },
    {
      title: t('inv.contact.exposure', '暴露'),
      key: 'exposure',
      render: (_, c) => (
        <Space direction="vertical" size={4}>
          {c.exposures.map((x) => (
            <div key={x.id}>
              <div>
                <Tag color="blue">{exposureType(x.type)}</Tag>
                {x.place ?? ''}
              </div>
              <Typography.Text type="secondary" style={nowrap}>
                {x.firstDate === x.lastDate ? x.firstDate : `${x.firstDate} — ${x.lastDate}`}
              </Typography.Text>
            </div>
          ))}
        </Space>
      ),
    },
    {
      title: t('inv.contact.window', '医学观察期'),
      key: 'window',
      render: (_, c) => (
        <Space direction="vertical" size={0}>
          <span style={nowrap}>
            {c.followUpStart} — {c.followUpEnd}
          </span>
          {c.status === 'monitoring' && c.followUpEnd >= today && (
            <Typography.Text type="secondary">
              {t('inv.contact.daysLeft', '还剩 {n} 天', { n: daysBetween(today, c.followUpEnd) })}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    { title: t('inv.contact.centre', '管理机构'), key: 'org', render: (_, c) => names.facility(c.organization) },
    {
      title: <span style={nowrap}>{t('inv.contact.lastCheck', '最近监测')}</span>,
      key: 'last',
      render: (_, c) =>
        follow.get(c.id)?.lastCheck ?? (
          <Typography.Text type="secondary" style={nowrap}>
            {t('inv.contact.noCheck', '尚无记录')}
          </Typography.Text>
        ),
    },
    {
      title: <span style={nowrap}>{t('inv.contact.overdue', '逾期未查')}</span>,
      key: 'overdue',
      render: (_, c) => {
        const n = follow.get(c.id)?.overdueDays ?? 0;
        return n ? (
          <Tag color="error" data-testid="contact-overdue">
            {t('inv.contact.overdueDays', '{n} 天', { n })}
          </Tag>
        ) : (
          t('inv.contact.noneOverdue', '无')
        );
      },
    },
    {
      title: t('inv.contact.status', '状态'),
      key: 'status',
      render: (_, c) =>
        c.status === 'became-case' && c.caseInvestigationId ? (
          <a href={`#/investigation/${c.caseInvestigationId}`}>{contactStatusLabel(c.status)}</a>
        ) : (
          <Tag color={c.status === 'monitoring' ? 'processing' : 'default'}>{contactStatusLabel(c.status)}</Tag>
        ),
    },
    {
      title: t('inv.actions', '操作'),
      key: 'actions',
      render: (_, c) =>
        c.status === 'monitoring' ? (
          <Space wrap>
            <Button
              size="small"
              data-testid="contact-check"
              onClick={() =>
                setChecking({
                  contactId: c.id,
                  name: names.resident(c.patientId),
                  followUpStart: c.followUpStart,
                  followUpEnd: c.followUpEnd,
                })
              }
            >
              {t('inv.contact.recordCheck', '记录健康监测')}
            </Button>
            {!readOnly && (
              <Button
                size="small"
                danger
                data-testid="contact-suspect"
                onClick={() => {
                  setNote('');
                  setSuspect(c);
                }}
              >
                {t('inv.contact.toSuspect', '转为疑似病例')}
              </Button>
            )}
          </Space>
        ) : null,
    },
  ];
  const outside: TableColumnsType<OutsideContact> = [
    { title: t('inv.contact.name', '姓名'), dataIndex: 'name' },
    { title: t('inv.contact.phone', '电话'), key: 'phone', render: (_, c) => c.phone ?? '—' },
    { title: t('inv.contact.window', '医学观察期'), key: 'window', render: (_, c) => `${c.followUpStart} — ${c.followUpEnd}` },
    { title: t('inv.contact.handover', '协查说明'), key: 'note', render: (_, c) => c.handoverNote ?? '—' },
  ];
  const turnToSuspect = async () => {
    if (!suspect) return;
    setSaving(true);
    try {
      const created = await contactToSuspect(suspect.id, note.trim() || undefined);
      message.success(t('inv.contact.suspectDone', '已转为疑似病例，并新建流行病学调查'));
      setSuspect(undefined);
      reload();
      onCase(created.id);
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setSaving(false);
    }
  };
  return (
    <div data-testid="contacts">
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      <Table
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={data?.items ?? []}
        loading={!data && !error}
        locale={{ emptyText: <Empty description={t('inv.contact.none', '尚未确认密切接触者')} /> }}
        data-testid="contacts-table"
        pagination={{ pageSize: 20, showTotal: (n) => t('inv.contact.total', '共 {n} 人', { n }) }}
      />
      {!!data?.outOfDistrict.length && (
        <>
          <Typography.Title level={5} style={{ marginTop: 16 }}>
            {t('inv.contact.outside', '辖区外密接（协查）')}
          </Typography.Title>
          <Table
            rowKey="id"
            size="small"
            columns={outside}
            dataSource={data.outOfDistrict}
            pagination={{ pageSize: 20, showTotal: (n) => t('inv.contact.total', '共 {n} 人', { n }) }}
          />
        </>
      )}
      <CheckModal
        target={checking}
        onClose={() => setChecking(undefined)}
        onSaved={() => {
          setChecking(undefined);
          reload();
        }}
      />
      <Modal
        open={!!suspect}
        title={t('inv.contact.suspectTitle', '转为疑似病例')}
        okText={t('inv.contact.suspectOk', '确认转为疑似病例')}
        okButtonProps={{ danger: true, id: 'suspect-ok' }}
        cancelText={t('inv.cancel', '取消')}
        confirmLoading={saving}
        onCancel={() => setSuspect(undefined)}
        onOk={() => void turnToSuspect()}
      >
        <Typography.Paragraph>
          {t('inv.contact.suspectText', '确认将 {name} 转为疑似病例？其医学观察将结束，并为其新建一项流行病学调查（发病日期为今天）。', {
            name: suspect ? names.resident(suspect.patientId) : '',
          })}
        </Typography.Paragraph>
        <Input.TextArea
          rows={2}
          value={note}
          maxLength={2000}
          placeholder={t('inv.contact.suspectNote', '症状说明，如：发热、皮疹')}
          onChange={(e) => setNote(e.target.value)}
        />
      </Modal>
    </div>
  );
}
