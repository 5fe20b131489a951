/**
 * 审计查阅 · 完整性: verifies the audit chain (every link's keyed hash, stored content, sequence
 * and signed checkpoint) and lists the signed checkpoints, downloadable as JSON for a second
 * party to hold.
 */
import { useEffect, useState } from 'react';
import { Alert, Button, Card, Descriptions, Empty, List, Result, Space, Table, Typography, type TableColumnsType } from 'antd';
import { DownloadOutlined, ReloadOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import {
  fetchCheckpoints,
  saveBlob,
  verifyAuditChain,
  type ChainProblem,
  type CheckpointExport,
  type VerifyReport,
} from '../api/audit.resource.js';
import { ApiError, isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { formatInstant, problemLabel } from './audit-words.js';

type Checkpoint = CheckpointExport['checkpoints'][number];

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function where(p: ChainProblem): string {
  if (p.seq !== undefined && p.eventId) return t('audit.verify.atSeqEvent', '序号 {seq}（事件 {id}）', { seq: p.seq, id: p.eventId });
  if (p.seq !== undefined) return t('audit.verify.atSeq', '序号 {seq}', { seq: p.seq });
  if (p.eventId) return t('audit.verify.atEvent', '事件 {id}', { id: p.eventId });
  return '';
}

function VerifyResult({ report }: { report: VerifyReport }) {
  const seconds = report.seconds.toFixed(report.seconds < 10 ? 2 : 0);
  if (report.ok)
    return (
      <Alert
        data-testid="audit-verify-result"
        type="success"
        showIcon
        message={t('audit.verify.ok', '审计链完整')}
        description={
          <>
            {t('audit.verify.okText', '已逐条核对 {events} 条记录和 {checkpoints} 个签名检查点，未发现删除、改写或插入（用时 {s} 秒）。', {
              events: report.events,
              checkpoints: report.checkpoints,
              s: seconds,
            })}
            {report.legacyEvents > 0 &&
              t('audit.verify.legacy', '另有 {n} 条记录早于审计链启用，不在校验范围内。', { n: report.legacyEvents })}
          </>
        }
      />
    );
  const first = report.firstBroken;
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }}>
      <Alert
        data-testid="audit-verify-result"
        type="error"
        showIcon
        message={t('audit.verify.broken', '审计链已被破坏')}
        description={
          first && (
            <>
              {t('audit.verify.first', '第一处问题在{where}：{reason}', { where: where(first), reason: problemLabel(first.problem) })}
              <br />
              {t('audit.verify.count', '共发现 {n} 处问题（已核对 {events} 条记录）。', {
                n: report.problems.length >= 100 ? '100+' : report.problems.length,
                events: report.events,
              })}
            </>
          )
        }
      />
      {report.problems.length > 1 && (
        <List<ChainProblem>
          size="small"
          bordered
          header={t('audit.verify.problems', '发现的问题')}
          dataSource={report.problems}
          pagination={report.problems.length > 10 ? { pageSize: 10, size: 'small' } : false}
          renderItem={(p) => (
            <List.Item>
              <Space>
                <Typography.Text type="secondary">{where(p)}</Typography.Text>
                <span>{problemLabel(p.problem)}</span>
              </Space>
            </List.Item>
          )}
        />
      )}
    </Space>
  );
}

export function AuditIntegrityTab() {
  const [report, setReport] = useState<VerifyReport>();
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<string>();
  const [exported, setExported] = useState<CheckpointExport>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [forbidden, setForbidden] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const c = new AbortController();
    setLoading(true);
    fetchCheckpoints(c.signal)
      .then((x) => {
        setExported(x);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setForbidden(e instanceof ApiError && e.status === 403);
        setError(errorText(e));
        setLoading(false);
      });
    return () => c.abort();
  }, [reload]);

  if (forbidden) return <Result status="403" title="403" subTitle={t('audit.forbidden.review', '仅系统管理员和审计员可查阅审计记录。')} />;

  const verify = async () => {
    setVerifying(true);
    setVerifyError(undefined);
    try {
      setReport(await verifyAuditChain());
      setReload((n) => n + 1); // the head as it is now, beside the result
    } catch (e) {
      setReport(undefined);
      setVerifyError(errorText(e));
    } finally {
      setVerifying(false);
    }
  };

  const download = () => {
    if (!exported) return;
    const day = new Date().toISOString().slice(0, 10);
    saveBlob(
      new Blob([JSON.stringify(exported, null, 2) + '\n'], { type: 'application/json' }),
      `yifang-audit-checkpoints-${day}-seq${exported.head.seq}.json`,
    );
  };

  const rows = [...(exported?.checkpoints ?? [])].reverse();
  const columns: TableColumnsType<Checkpoint> = [
    { title: t('audit.cp.seq', '链序号'), dataIndex: 'seq', width: 100 },
    { title: t('audit.cp.signedAt', '签名时间'), key: 'signedAt', width: 180, render: (_, c) => formatInstant(c.signedAt) },
    {
      title: t('audit.cp.hash', '链头哈希'),
      key: 'hash',
      render: (_, c) => (
        <Typography.Text className="yf-mono" copyable={{ text: c.hash }}>
          {c.hash.slice(0, 16)}…
        </Typography.Text>
      ),
    },
    {
      title: t('audit.cp.key', '签名公钥'),
      dataIndex: 'publicKeyId',
      width: 200,
      render: (v: string) => <span className="yf-mono">{v}</span>,
    },
  ];

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card
        size="small"
        title={t('audit.verify.title', '审计链校验')}
        extra={
          <Button
            type="primary"
            icon={<SafetyCertificateOutlined />}
            loading={verifying}
            onClick={() => void verify()}
            data-testid="audit-verify"
          >
            {t('audit.verify.run', '校验审计链')}
          </Button>
        }
      >
        <Typography.Paragraph type="secondary">
          {t(
            'audit.verify.help',
            '每条审计记录都用密钥与前一条链接，链头定期由签名检查点固定。校验逐条核对链接、记录内容、序号和检查点签名，能发现删除、改写或插入的记录。',
          )}
        </Typography.Paragraph>
        {verifyError && <Alert type="error" showIcon message={`${t('audit.verify.failed', '校验未能完成')}：${verifyError}`} />}
        {report && <VerifyResult report={report} />}
      </Card>
      <Card
        size="small"
        title={t('audit.cp.title', '签名检查点')}
        extra={
          <Space>
            <Button icon={<DownloadOutlined />} disabled={!exported} onClick={download} data-testid="audit-checkpoints-download">
              {t('audit.cp.download', '下载 JSON（交第三方保存）')}
            </Button>
            <Button icon={<ReloadOutlined />} onClick={() => setReload((n) => n + 1)} loading={loading}>
              {t('common.refresh', '刷新')}
            </Button>
          </Space>
        }
      >
        <Typography.Paragraph type="secondary">
          {t(
            'audit.cp.help',
            '检查点是对链头的数字签名（Ed25519）。把下载的 JSON 交给第三方（如上级卫生健康部门）保存，日后可用它证明此前的审计记录未被改动。',
          )}
        </Typography.Paragraph>
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
        {exported && (
          <Descriptions size="small" column={2} style={{ marginBottom: 12 }}>
            <Descriptions.Item label={t('audit.cp.head', '当前链头')}>
              {t('audit.cp.headSeq', '序号 {seq}', { seq: exported.head.seq })}
            </Descriptions.Item>
            <Descriptions.Item label={t('audit.cp.count', '检查点')}>
              {t('audit.cp.countText', '{n} 个', { n: exported.checkpoints.length })}
            </Descriptions.Item>
            <Descriptions.Item label={t('audit.cp.publicKey', '签名公钥编号')}>
              <span className="yf-mono">{exported.publicKeyId}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('audit.cp.hmacKey', '链接密钥编号')}>
              <span className="yf-mono">{exported.hmacKeyId}</span>
            </Descriptions.Item>
          </Descriptions>
        )}
        <Table<Checkpoint>
          data-testid="audit-checkpoints"
          size="small"
          rowKey="seq"
          columns={columns}
          dataSource={rows}
          loading={loading}
          pagination={{ pageSize: 10, hideOnSinglePage: true }}
          locale={{
            emptyText: (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('audit.cp.none', '尚无检查点：服务器会定期为链头签名')} />
            ),
          }}
        />
      </Card>
    </Space>
  );
}
