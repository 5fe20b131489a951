/**
 * 调查详情 (#/investigation/:id): who, what disease, status and deadline in words, the status
 * buttons (sent with the version read: 409 says someone else changed it and reloads), and the
 * tabs 个案调查表, 行动轨迹, 密接候选 and 密切接触者.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Input, Modal, Select, Skeleton, Space, Tabs, Tag } from 'antd';
import { downloadFile } from '../api/download.js';
import { ApiError, isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { navigate } from '../shell/router.js';
import { ChainTab, OrdersTab } from './chain.component.js';
import { CandidatesTab, ContactsTab } from './contacts.component.js';
import { LabTab } from './lab-tab.component.js';
import { Deadline } from './investigation-list.component.js';
import {
  EPIINV,
  getForm,
  getInvestigation,
  updateInvestigation,
  type Form,
  type Investigation,
  type InvestigationStatus,
} from './investigation.resource.js';
import { EscalationsCard } from './escalations.component.js';
import { TrajectoryTab } from './trajectory.component.js';
import { chinaTime, classLabel, classificationLabel, diseaseLabel, sourceLabel, STATUS_COLOURS, statusLabel } from './labels.js';
import { CONFLICT_TEXT, QuestionnaireForm } from './questionnaire-form.component.js';
import { useNames } from './useNames.js';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The next states a status may move to, with the button's words. */
const NEXT: Record<string, { to: InvestigationStatus; label: () => string }[]> = {
  open: [{ to: 'in-progress', label: () => t('inv.action.start', '开始调查') }],
  'in-progress': [{ to: 'closed', label: () => t('inv.action.close', '结案') }],
  closed: [],
};

export function InvestigationDetailPage({ id, tab }: { id: number; tab?: string }) {
  const [inv, setInv] = useState<Investigation>();
  const [form, setForm] = useState<Form>();
  const [error, setError] = useState<string>();
  const [conflict, setConflict] = useState(false);
  const [busy, setBusy] = useState(false);
  const [reporting, setReporting] = useState(false);
  const [closing, setClosing] = useState(false);
  const [closeNote, setCloseNote] = useState('');
  const [contactsRefresh, setContactsRefresh] = useState(0);
  const [activeTab, setActiveTab] = useState(tab ?? 'form');
  const { message, modal } = App.useApp();
  /** Reads the investigation again (its version and status); the form keeps what was typed. */
  const reload = useCallback(() => {
    getInvestigation(id).then(setInv, (e: unknown) => setError(errorText(e)));
  }, [id]);

  useEffect(() => {
    const ctrl = new AbortController();
    Promise.all([getInvestigation(id, ctrl.signal), getForm(id, ctrl.signal)])
      .then(([i, f]) => {
        setInv(i);
        setForm(f);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(errorText(e));
      });
    return () => ctrl.abort();
  }, [id]);
  const names = useNames(inv ? [inv.patientId] : []);

  const change = async (body: { status?: InvestigationStatus; closeNote?: string; classification?: Investigation['classification'] }) => {
    if (!inv) return;
    setBusy(true);
    try {
      const next = await updateInvestigation(inv.id, { version: inv.version, ...body });
      setInv(next);
      setConflict(false);
      message.success(
        body.classification
          ? t('inv.classification.done', '病例分类已改为{c}', { c: classificationLabel(next.classification) })
          : t('inv.action.done', '状态已更新为{status}', { status: statusLabel(next.status) }),
      );
      setClosing(false);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && /version|changed/i.test(e.message)) {
        setConflict(true);
        message.error(CONFLICT_TEXT());
        setClosing(false);
        reload();
      } else message.error(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (error && !inv) return <Alert type="error" showIcon message={error} />;
  if (!inv) return <Skeleton active />;
  const closed = inv.status === 'closed';
  const resident = names.resident(inv.patientId);
  const title = t('inv.detail.title', '{name} · {disease}', { name: resident, disease: diseaseLabel(inv.diseaseKey, inv.diseaseName) });

  return (
    <div data-testid="investigation-detail">
      <PageHeader
        title={title}
        crumbs={[
          { title: t('nav.investigation', '流行病学调查') },
          { title: t('inv.list.title', '调查列表'), href: '#/investigation' },
          { title: t('inv.detail.crumb', '调查详情') },
        ]}
        extra={
          <Space>
            <Button
              loading={reporting}
              data-testid="report-pdf"
              onClick={() => {
                setReporting(true);
                downloadFile(`/api/investigations/${inv.id}/report`, `流调报告-${inv.id}.pdf`, 'application/pdf', {
                  method: 'POST',
                  purpose: EPIINV,
                })
                  .then(() => message.success(t('inv.report.done', '流调报告已生成并存档')))
                  .catch((e: unknown) => message.error(errorText(e)))
                  .finally(() => setReporting(false));
              }}
            >
              {t('inv.report.make', '生成流调报告（PDF）')}
            </Button>
            {NEXT[inv.status]!.map((n) => (
              <Button
                key={n.to}
                type="primary"
                loading={busy}
                data-testid={`status-${n.to}`}
                onClick={() => (n.to === 'closed' ? setClosing(true) : void change({ status: n.to }))}
              >
                {n.label()}
              </Button>
            ))}
          </Space>
        }
      />
      {conflict && (
        <Alert
          type="warning"
          showIcon
          closable
          onClose={() => setConflict(false)}
          message={CONFLICT_TEXT()}
          description={t('inv.conflict.reloaded', '已重新载入最新内容，请核对后再操作。')}
          style={{ marginBottom: 12 }}
          data-testid="conflict"
        />
      )}
      <Card size="small" style={{ marginBottom: 16 }} data-testid="investigation-header">
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }}>
          <Descriptions.Item label={t('inv.col.resident', '调查对象')}>
            <a href={`#/residents/${encodeURIComponent(inv.patientId)}`} data-testid="header-resident">
              {resident}
            </a>
          </Descriptions.Item>
          <Descriptions.Item label={t('inv.col.disease', '疾病')}>
            <Space size={4}>
              <span data-testid="header-disease">{diseaseLabel(inv.diseaseKey, inv.diseaseName)}</span>
              <Tag>{classLabel(inv.diseaseClass)}</Tag>
            </Space>
          </Descriptions.Item>
          <Descriptions.Item label={t('inv.col.status', '状态')}>
            <Tag color={STATUS_COLOURS[inv.status]} data-testid="header-status">
              {statusLabel(inv.status)}
            </Tag>
          </Descriptions.Item>
          <Descriptions.Item label={t('inv.col.classification', '病例分类')}>
            <Select
              size="small"
              data-testid="header-classification"
              value={inv.classification}
              disabled={closed || busy}
              style={{ minWidth: 140 }}
              onChange={(c) => void change({ classification: c })}
              options={(['suspected', 'clinical', 'confirmed', 'excluded'] as const).map((c) => ({
                value: c,
                label: classificationLabel(c),
              }))}
            />
          </Descriptions.Item>
          <Descriptions.Item label={t('inv.col.deadline', '调查时限')}>
            <Deadline inv={inv} />
          </Descriptions.Item>
          <Descriptions.Item label={t('inv.col.assignee', '调查人')}>{inv.assignee ?? t('inv.unassigned', '未分派')}</Descriptions.Item>
          <Descriptions.Item label={t('inv.col.onset', '发病日期')}>{inv.onsetDate ?? '—'}</Descriptions.Item>
          <Descriptions.Item label={t('inv.col.source', '来源')}>
            {sourceLabel(inv.source)}
            {inv.openedAutomatically && (
              <Tag color="purple" style={{ marginInlineStart: 8 }} data-testid="opened-automatically">
                {t('inv.auto', '自动开启')}
                {inv.autoRule ? `（${inv.autoRule}）` : ''}
              </Tag>
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t('inv.col.opened', '开始时间')}>
            {t('inv.openedBy', '{time}（{who}）', { time: chinaTime(inv.openedAt), who: inv.openedBy })}
          </Descriptions.Item>
          {closed && (
            <Descriptions.Item label={t('inv.col.closed', '结案')}>
              {t('inv.openedBy', '{time}（{who}）', { time: chinaTime(inv.closedAt), who: inv.closedBy ?? '' })}
              {inv.closeNote ? ` · ${inv.closeNote}` : ''}
            </Descriptions.Item>
          )}
          {inv.note && <Descriptions.Item label={t('inv.col.note', '备注')}>{inv.note}</Descriptions.Item>}
        </Descriptions>
      </Card>
      <EscalationsCard investigationId={inv.id} />
      <Card size="small">
        <Tabs
          activeKey={activeTab}
          onChange={setActiveTab}
          destroyInactiveTabPane={false}
          items={[
            {
              key: 'form',
              label: t('inv.tab.form', '个案调查表'),
              children: form ? (
                <QuestionnaireForm
                  data={form}
                  version={inv.version}
                  readOnly={closed}
                  onSaved={(saved) => {
                    setForm(saved);
                    // The version moved (and an open investigation is now in progress).
                    void getInvestigation(inv.id).then(setInv, () => undefined);
                  }}
                  onConflict={reload}
                />
              ) : (
                <Skeleton active />
              ),
            },
            { key: 'trajectory', label: t('inv.tab.trajectory', '行动轨迹'), children: <TrajectoryTab investigationId={inv.id} /> },
            {
              key: 'candidates',
              label: t('inv.tab.candidates', '密接候选'),
              children: <CandidatesTab investigationId={inv.id} readOnly={closed} onChanged={() => setContactsRefresh((n) => n + 1)} />,
            },
            {
              key: 'contacts',
              label: t('inv.tab.contacts', '密切接触者'),
              children: (
                <ContactsTab
                  investigationId={inv.id}
                  readOnly={closed}
                  refresh={contactsRefresh}
                  onCase={(caseId) =>
                    modal.confirm({
                      title: t('inv.contact.openNew', '已为其新建调查，是否现在打开？'),
                      okText: t('inv.open', '打开'),
                      cancelText: t('inv.stay', '留在本页'),
                      onOk: () => navigate(`/investigation/${caseId}`),
                    })
                  }
                />
              ),
            },
            {
              key: 'chain',
              label: t('inv.tab.chain', '传播链'),
              children: activeTab === 'chain' ? <ChainTab investigationId={inv.id} /> : null,
            },
            {
              key: 'lab',
              label: t('inv.tab.lab', '检测结果'),
              children: activeTab === 'lab' ? <LabTab investigationId={inv.id} /> : null,
            },
            {
              key: 'orders',
              label: t('inv.tab.orders', '隔离管理'),
              children: activeTab === 'orders' ? <OrdersTab inv={inv} readOnly={closed} /> : null,
            },
          ]}
        />
      </Card>
      <Modal
        open={closing}
        title={t('inv.close.title', '结案')}
        okText={t('inv.action.close', '结案')}
        cancelText={t('inv.cancel', '取消')}
        confirmLoading={busy}
        onCancel={() => setClosing(false)}
        onOk={() => void change({ status: 'closed', ...(closeNote.trim() ? { closeNote: closeNote.trim() } : {}) })}
      >
        <Input.TextArea
          rows={3}
          value={closeNote}
          maxLength={2000}
          placeholder={t('inv.close.note', '结案说明，如：调查完成、密接已全部落实管理')}
          onChange={(e) => setCloseNote(e.target.value)}
        />
      </Modal>
    </div>
  );
}
