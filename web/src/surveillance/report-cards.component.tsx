/**
 * 传染病报告卡: the card list (drafts with their deadline, cards awaiting 审核, ...), the card
 * detail with the doctor's submit form (drafts and returned cards), the CDC review actions
 * (审核 / 退卡), the 订正 form (correct a submitted or reviewed card, with a reason; every
 * correction is listed with each field before and after), and timeliness and completeness per
 * facility.
 */
import { OCCUPATION_CLASSES } from '../../../src/shared/occupations.js';
import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Drawer,
  Form,
  Input,
  Select,
  Space,
  Table,
  Tabs,
  Tag,
  Timeline,
  Typography,
  type TableColumnsType,
} from 'antd';
import type { ReportCard } from '../../../src/surveillance/reporting/card.js';
import { ExportButtons } from '../shared/export-buttons.component.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { navigate } from '../shell/router.js';
import { actorLabel, cardActionLabel, cardStatusLabel, formatDateTime } from './labels.js';
import type { CardChange, FacilityStat, ReportCardDetail, ReportCardList, ReportCardRecord } from '../../../src/surveillance/schemas.js';
import { correctCard, getCard, getCardStats, listCards, reviewCard, submitCard } from './surveillance.resource.js';

const CLASSIFICATIONS = ['疑似病例', '临床诊断病例', '确诊病例', '病原携带者'];
const RESIDENCE = ['本县区', '本市其他县区', '本省其它地市', '外省', '港澳台', '外籍'];

/** The card as stored: filled in over time, so any field may be missing. */
type CardFields = Partial<ReportCard>;

/** The values of the card form. */
interface CardFormValues {
  name: string;
  idNumber?: string | null;
  sex: string;
  birthDate: string | null;
  phone?: string | null;
  residenceCategory: string;
  occupation: string;
  caseClassification: string;
  onsetDate: string;
  reportingDoctor: string;
  houseNumber: string;
  areaCode: string;
  facilityCode: string;
  facilityName?: string;
}

/** The card fields as the form edits them (one shape for submit and 订正). */
function cardFromForm(v: CardFormValues, c: CardFields): Record<string, unknown> {
  return {
    name: v.name,
    idNumber: v.idNumber || null,
    idType: v.idNumber ? '01' : '99',
    sex: v.sex,
    birthDate: v.birthDate,
    phone: v.phone || null,
    residenceCategory: v.residenceCategory,
    occupationClass: {
      ...(c.occupationClass ?? {}),
      code: c.occupationClass?.name === v.occupation ? (c.occupationClass?.code ?? '') : '',
      name: v.occupation,
    },
    caseClassification: v.caseClassification,
    onsetDate: v.onsetDate,
    reportingDoctor: v.reportingDoctor,
    address: { ...(c.address ?? {}), houseNumber: v.houseNumber, areaCode: v.areaCode },
    reportingOrganization: {
      ...(c.reportingOrganization ?? {}),
      id: c.reportingOrganization?.id ?? v.facilityCode,
      code: v.facilityCode,
      name: v.facilityName,
    },
  };
}

/** Only the top-level fields whose value the 订正 changes (nested objects sent whole). */
function changedTopFields(next: Record<string, unknown>, prev: CardFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    const before = (prev as Record<string, unknown>)[k] as Record<string, unknown> | undefined;
    const same =
      v && typeof v === 'object'
        ? Object.entries(v as Record<string, unknown>).every(([kk, vv]) => (vv ?? null) === (before?.[kk] ?? null))
        : (v ?? null) === (before ?? null);
    if (!same) out[k] = v;
  }
  return out;
}

/** Card field paths as the form labels them (the path is shown too, for the English screens). */
const FIELD_LABELS: Record<string, string> = {
  name: '姓名',
  idNumber: '有效证件号',
  idType: '证件类型',
  sex: '性别',
  birthDate: '出生日期',
  phone: '联系电话',
  residenceCategory: '病人属于',
  'address.areaCode': '现住址编码',
  'address.houseNumber': '现住址（门牌）',
  'occupationClass.name': '人群分类',
  'occupationClass.code': '人群分类编码',
  caseClassification: '病例分类',
  onsetDate: '发病日期',
  reportingDoctor: '填卡医生',
  'reportingOrganization.code': '报告单位编码',
  'reportingOrganization.name': '报告单位',
  diagnosisDateTime: '诊断时间',
  'disease.name': '疾病名称',
  correctedDiseaseName: '订正病名',
};
const fieldLabel = (field: string) => (FIELD_LABELS[field] ? `${FIELD_LABELS[field]} (${field})` : field);

const showValue = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Every 订正 of the card: who, when, why, and each field before → after (the prior version stays visible). */
function CorrectionHistory({ card }: { card: ReportCardDetail }) {
  const corrections = card.events.filter((e) => e.action === 'correct' && e.detail?.changes?.length);
  if (!corrections.length) return null;
  return (
    <Card size="small" title={t('surv.card.corrections', '订正记录')} style={{ marginBottom: 16 }} data-testid="card-corrections">
      {corrections.map((e, i) => (
        <div key={i} style={{ marginBottom: 8 }}>
          <Typography.Text strong>
            {formatDateTime(e.at)} · {actorLabel(e.actor)}
          </Typography.Text>
          <Typography.Text type="secondary">
            {' '}
            · {t('surv.card.correctionReason', '订正原因')}：{e.reason}
          </Typography.Text>
          {e.detail?.previousVersion !== undefined && (
            <Typography.Text type="secondary">
              {' '}
              · {t('surv.card.priorVersion', '原版本')} v{e.detail.previousVersion}
            </Typography.Text>
          )}
          <Table<CardChange>
            size="small"
            pagination={false}
            rowKey="field"
            dataSource={e.detail!.changes}
            columns={[
              { title: t('surv.card.field', '项目'), dataIndex: 'field', render: fieldLabel },
              {
                title: t('surv.card.before', '订正前'),
                dataIndex: 'before',
                render: (v: unknown) => <Typography.Text delete>{showValue(v)}</Typography.Text>,
              },
              {
                title: t('surv.card.after', '订正后'),
                dataIndex: 'after',
                render: (v: unknown) => <Typography.Text strong>{showValue(v)}</Typography.Text>,
              },
            ]}
          />
        </div>
      ))}
    </Card>
  );
}

function CardDrawer({ id, onClose, onChanged }: { id: string; onClose: () => void; onChanged: () => void }) {
  const { message, modal } = App.useApp();
  const [card, setCard] = useState<ReportCardDetail | null>(null);
  const [form] = Form.useForm<CardFormValues>();
  const [reason, setReason] = useState('');
  const [correcting, setCorrecting] = useState(false);
  const [correctionReason, setCorrectionReason] = useState('');
  const load = useCallback(
    () =>
      getCard(id)
        .then(setCard)
        .catch((e: Error) => message.error(e.message)),
    [id, message],
  );
  useEffect(() => void load(), [load]);
  useEffect(() => {
    if (!card) return;
    const c = card.card as CardFields;
    form.setFieldsValue({
      name: c.name,
      idNumber: c.idNumber,
      sex: c.sex,
      birthDate: c.birthDate,
      phone: c.phone,
      residenceCategory: c.residenceCategory ?? '本县区',
      occupation: c.occupationClass?.name,
      caseClassification: c.caseClassification,
      onsetDate: c.onsetDate,
      reportingDoctor: c.reportingDoctor,
      houseNumber: c.address?.houseNumber,
      areaCode: c.address?.areaCode,
      facilityCode: c.reportingOrganization?.code,
      facilityName: c.reportingOrganization?.name,
    });
    setCorrecting(false);
    setCorrectionReason('');
  }, [card, form]);
  if (!card) return <Drawer open width={720} onClose={onClose} loading />;
  const c = card.card as CardFields;
  const editable = card.status === 'draft' || card.status === 'returned';
  const correctable = card.status === 'submitted' || card.status === 'reviewed';

  const submit = async () => {
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    try {
      await submitCard(card.id, card.version, cardFromForm(v, c));
      message.success(t('surv.card.submittedOk', '报告卡已提交'));
      onChanged();
      await load();
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  const review = async (action: 'approve' | 'return') => {
    try {
      await reviewCard(card.id, { action, version: card.version, reason: action === 'return' ? reason : undefined });
      message.success(action === 'approve' ? t('surv.card.approved', '已审核') : t('surv.card.returnedOk', '已退卡'));
      onChanged();
      await load();
    } catch (e) {
      message.error((e as Error).message);
    }
  };

  const saveCorrection = async () => {
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    const corrections = changedTopFields(cardFromForm(v, c), c);
    if (!Object.keys(corrections).length) {
      message.warning(t('surv.card.nothingChanged', '没有修改任何项目'));
      return;
    }
    try {
      await correctCard(card.id, { version: card.version, reason: correctionReason.trim(), corrections });
      message.success(t('surv.card.correctedOk', '报告卡已订正'));
      onChanged();
      await load();
    } catch (e) {
      message.error((e as Error).message);
    }
  };

  return (
    <Drawer open width={760} onClose={onClose} title={`${t('nav.reportCards', '传染病报告卡')} ${card.id}`} data-testid="card-drawer">
      <Descriptions size="small" column={2} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('surv.card.status', '状态')}>
          <Tag>{cardStatusLabel(card.status)}</Tag>
          {card.late && <Tag color="error">{t('surv.card.late', '迟报')}</Tag>}
          {card.duplicateOf && (
            <Tag color="warning">
              {t('surv.card.duplicate', '重卡')} {card.duplicateOf}
            </Tag>
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t('surv.card.disease', '疾病')}>
          {card.diseaseName} {(c.disease?.subtype as string) ?? ''} ({(c.disease?.icd10 as string) ?? ''})
        </Descriptions.Item>
        <Descriptions.Item label={t('surv.card.diagnosed', '诊断时间')}>{formatDateTime(card.diagnosedAt)}</Descriptions.Item>
        <Descriptions.Item label={t('surv.card.deadline', '报告时限')}>{formatDateTime(card.deadlineAt)}</Descriptions.Item>
        {card.returnReason && <Descriptions.Item label={t('surv.card.returnReason', '退卡原因')}>{card.returnReason}</Descriptions.Item>}
      </Descriptions>
      {correcting && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 12 }}
          message={t('surv.card.correctingHint', '订正：修改需要更正的项目，填写订正原因后提交；原内容保留在订正记录中。')}
        />
      )}
      <Form form={form} layout="vertical" disabled={!editable && !correcting} data-testid="card-form">
        <Space wrap align="start">
          <Form.Item name="name" label="姓名" rules={[{ required: true }]}>
            <Input style={{ width: 160 }} />
          </Form.Item>
          <Form.Item name="idNumber" label="有效证件号">
            <Input style={{ width: 220 }} />
          </Form.Item>
          <Form.Item name="sex" label="性别" rules={[{ required: true }]}>
            <Select
              style={{ width: 90 }}
              options={[
                { value: '1', label: '男' },
                { value: '2', label: '女' },
                { value: '0', label: '未知' },
              ]}
            />
          </Form.Item>
          <Form.Item name="birthDate" label="出生日期" rules={[{ required: true }]}>
            <Input style={{ width: 130 }} placeholder="YYYY-MM-DD" />
          </Form.Item>
          <Form.Item name="phone" label="联系电话">
            <Input style={{ width: 150 }} />
          </Form.Item>
          <Form.Item name="residenceCategory" label="病人属于" rules={[{ required: true }]}>
            <Select style={{ width: 150 }} options={RESIDENCE.map((r) => ({ value: r, label: r }))} />
          </Form.Item>
          <Form.Item name="areaCode" label="现住址编码" rules={[{ required: true, pattern: /^\d{12}$/ }]}>
            <Input style={{ width: 150 }} />
          </Form.Item>
          <Form.Item name="houseNumber" label="现住址（门牌）" rules={[{ required: true }]}>
            <Input style={{ width: 280 }} />
          </Form.Item>
          <Form.Item name="occupation" label="人群分类" rules={[{ required: true }]}>
            <Select
              style={{ width: 160 }}
              options={OCCUPATION_CLASSES.map((o) => ({ value: o, label: o }))}
              data-testid="occupation-select"
            />
          </Form.Item>
          <Form.Item name="caseClassification" label="病例分类" rules={[{ required: true }]}>
            <Select style={{ width: 150 }} options={CLASSIFICATIONS.map((o) => ({ value: o, label: o }))} />
          </Form.Item>
          <Form.Item name="onsetDate" label="发病日期" rules={[{ required: true }]}>
            <Input style={{ width: 130 }} />
          </Form.Item>
          <Form.Item name="facilityCode" label="报告单位编码" rules={[{ required: true }]}>
            <Input style={{ width: 150 }} />
          </Form.Item>
          <Form.Item name="facilityName" label="报告单位">
            <Input style={{ width: 200 }} />
          </Form.Item>
          <Form.Item name="reportingDoctor" label="填卡医生" rules={[{ required: true }]}>
            <Input style={{ width: 120 }} />
          </Form.Item>
        </Space>
      </Form>
      <Space style={{ marginBottom: 16 }}>
        {editable && (
          <Button type="primary" onClick={submit} data-testid="card-submit">
            {t('surv.card.submit', '提交报告卡')}
          </Button>
        )}
        {card.status === 'submitted' && (
          <>
            <Button
              type="primary"
              onClick={() =>
                card.duplicateOf
                  ? modal.confirm({
                      title: t('surv.card.duplicateTitle', '这张卡疑似重卡'),
                      content: t(
                        'surv.card.duplicateText',
                        '已有同一居民、同一疾病的报告卡（{id}）。确认仍要审核通过吗？重卡通常应退卡或删除。',
                        {
                          id: card.duplicateOf,
                        },
                      ),
                      okText: t('surv.card.approveAnyway', '仍然审核通过'),
                      cancelText: t('inv.cancel', '取消'),
                      onOk: () => review('approve'),
                    })
                  : void review('approve')
              }
              data-testid="card-approve"
            >
              {t('surv.card.approve', '审核通过')}
            </Button>
            <Input
              style={{ width: 240 }}
              placeholder={t('surv.card.returnReason', '退卡原因')}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
            <Button danger disabled={!reason.trim()} onClick={() => review('return')}>
              {t('surv.card.return', '退卡')}
            </Button>
          </>
        )}
        {correctable && !correcting && (
          <Button onClick={() => setCorrecting(true)} data-testid="card-correct">
            {t('surv.card.correct', '订正')}
          </Button>
        )}
      </Space>
      {correcting && (
        <Space style={{ marginBottom: 16 }} wrap>
          <Input
            style={{ width: 320 }}
            placeholder={t('surv.card.correctionReason', '订正原因')}
            value={correctionReason}
            onChange={(e) => setCorrectionReason(e.target.value)}
            data-testid="card-correct-reason"
          />
          <Button type="primary" disabled={!correctionReason.trim()} onClick={saveCorrection} data-testid="card-correct-save">
            {t('surv.card.correctSave', '提交订正')}
          </Button>
          <Button
            onClick={() => {
              setCorrecting(false);
              void load();
            }}
          >
            {t('surv.card.correctCancel', '取消')}
          </Button>
        </Space>
      )}
      <CorrectionHistory card={card} />
      <Typography.Title level={5}>{t('surv.card.history', '处理记录')}</Typography.Title>
      <Timeline
        items={card.events.map((e) => ({
          children: `${formatDateTime(e.at)} · ${actorLabel(e.actor)} · ${cardActionLabel(e.action)}${e.reason ? ` · ${e.reason}` : ''}`,
        }))}
      />
    </Drawer>
  );
}

const CARD_PAGE_SIZE = 20;

export function ReportCardsPage({ status, open }: { status: string; open: string }) {
  const [data, setData] = useState<ReportCardList | null>(null);
  const [stats, setStats] = useState<FacilityStat[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [loading, setLoading] = useState(true);
  // The page belongs to a tab: another tab starts from its first page.
  const [paged, setPaged] = useState<{ status: string; page: number; size: number }>({ status, page: 1, size: CARD_PAGE_SIZE });
  const page = paged.status === status ? paged.page : 1;
  const size = paged.size;
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    listCards(
      {
        status: status === 'overdue' ? 'draft' : status || undefined,
        overdue: status === 'overdue',
        limit: size,
        offset: (page - 1) * size,
      },
      ctrl.signal,
    )
      .then((d) => {
        setData(d);
        setError(null);
        setLoading(false);
      })
      .catch((e: Error) => {
        if (ctrl.signal.aborted) return;
        setError(e.message);
        setLoading(false);
      });
    return () => ctrl.abort();
  }, [status, tick, page, size]);
  useEffect(() => {
    const ctrl = new AbortController();
    getCardStats(ctrl.signal)
      .then(setStats)
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [tick]);

  const columns: TableColumnsType<ReportCardRecord> = [
    {
      // The resident opens the card; the card's number (an internal key) is in the drawer's title.
      title: t('surv.card.name', '姓名'),
      key: 'name',
      render: (_, r) => (
        <a
          onClick={() => navigate('/surveillance/reports', { status: status || undefined, open: r.id })}
          data-testid="card-link"
          data-card-id={r.id}
        >
          {(r.card.name as string) || t('surv.card.unnamed', '（未填姓名）')}
        </a>
      ),
    },
    { title: t('surv.card.disease', '疾病'), dataIndex: 'diseaseName' },
    { title: t('surv.card.classification', '病例分类'), dataIndex: 'caseClassification' },
    { title: t('surv.card.facility', '报告单位'), key: 'facility', render: (_, r) => r.facilityName ?? '—' },
    { title: t('surv.card.diagnosed', '诊断时间'), dataIndex: 'diagnosedAt', render: formatDateTime },
    {
      title: t('surv.card.status', '状态'),
      key: 'status',
      render: (_, r) => (
        <Space size={4}>
          <Tag>{cardStatusLabel(r.status)}</Tag>
          {r.late && <Tag color="error">{t('surv.card.late', '迟报')}</Tag>}
          {r.duplicateOf && <Tag color="warning">{t('surv.card.duplicate', '重卡')}</Tag>}
          {r.status === 'draft' && r.deadlineAt && new Date(r.deadlineAt) < new Date() && (
            <Tag color="error">{t('surv.overdue', '超时')}</Tag>
          )}
        </Space>
      ),
    },
  ];
  const count = (key: string) => data?.counts[key || 'all'];
  const withCount = (key: string, label: string) => (count(key) === undefined ? label : `${label} (${count(key)})`);
  const tabs = [
    { key: '', label: withCount('', t('surv.card.all', '全部')) },
    { key: 'draft', label: withCount('draft', t('surv.card.draft', '草稿')) },
    { key: 'overdue', label: withCount('overdue', t('surv.card.overdue', '超时未报')) },
    { key: 'submitted', label: withCount('submitted', t('surv.card.submitted', '待审核')) },
    { key: 'reviewed', label: withCount('reviewed', t('surv.card.reviewed', '已审核')) },
    { key: 'returned', label: withCount('returned', t('surv.card.returned', '已退卡')) },
  ];
  return (
    <div data-testid="report-cards">
      <PageHeader
        title={t('nav.reportCards', '传染病报告卡')}
        crumbs={[{ title: t('nav.surveillance', '传染病监测预警') }, { title: t('nav.reportCards', '传染病报告卡') }]}
      />
      {error && <Alert type="error" showIcon message={error} />}
      <Card size="small" style={{ marginBottom: 16 }}>
        <Tabs
          activeKey={status}
          items={tabs}
          onChange={(k) => navigate('/surveillance/reports', { status: k || undefined })}
          tabBarExtraContent={
            <ExportButtons
              path="/api/report-cards/export"
              query={status === 'overdue' ? { status: 'draft', overdue: 'true' } : { status: status || undefined }}
              testId="cards-export"
            />
          }
        />
        <Table
          rowKey="id"
          size="small"
          columns={columns}
          dataSource={data?.cards ?? []}
          loading={loading}
          data-testid="cards-table"
          pagination={{
            current: page,
            pageSize: size,
            total: data?.total ?? 0,
            showSizeChanger: true,
            pageSizeOptions: [20, 50, 100],
            showTotal: (n) => t('surv.card.pageTotal', '共 {n} 张', { n }),
            onChange: (p, s) => setPaged({ status, page: s !== size ? 1 : p, size: s }),
          }}
        />
      </Card>
      <Card size="small" title={t('surv.card.quality', '各单位报告质量（迟报、不完整、重卡）')}>
        <Table
          rowKey="facility"
          size="small"
          pagination={false}
          dataSource={stats}
          columns={[
            { title: t('surv.card.facility', '报告单位'), key: 'f', render: (_, s) => s.name ?? s.facility },
            { title: t('surv.card.total', '报卡数'), dataIndex: 'total' },
            { title: t('surv.card.late', '迟报'), dataIndex: 'late' },
            { title: t('surv.card.incomplete', '不完整'), dataIndex: 'incomplete' },
            { title: t('surv.card.duplicate', '重卡'), dataIndex: 'duplicate' },
            { title: t('surv.card.returned', '已退卡'), dataIndex: 'returned' },
            { title: t('surv.card.overdue', '超时未报'), dataIndex: 'overdueDrafts' },
          ]}
        />
      </Card>
      {open && (
        <CardDrawer
          id={open}
          onClose={() => navigate('/surveillance/reports', { status: status || undefined })}
          onChanged={() => setTick((x) => x + 1)}
        />
      )}
    </div>
  );
}
