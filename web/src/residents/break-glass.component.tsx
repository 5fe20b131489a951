/**
 * Emergency access (紧急访问/破窗) on the resident record: the refusal in words for a resident
 * outside the user's scope, the request form (reason and duration, with what follows from it),
 * and the red banner while a grant lasts.
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Modal, Radio, Result, Typography } from 'antd';
import { UnlockOutlined } from '@ant-design/icons';
import { t } from '../i18n/i18n.js';
import type { BreakGlassGrantDto } from '../../../src/app/access-routes.js';
import { BREAK_GLASS_MINUTES, MIN_REASON, openBreakGlass } from './break-glass.resource.js';

/** HH:mm in the browser's time zone. */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

function minutesLabel(minutes: number): string {
  return minutes < 60 ? t('access.minutes', '{n} 分钟', { n: minutes }) : t('access.hours', '{n} 小时', { n: minutes / 60 });
}

/** The refusal: the resident is outside the user's organisation and areas. */
export function OutOfScopeResult({ canBreakGlass, onBreakGlass }: { canBreakGlass: boolean; onBreakGlass(): void }) {
  return (
    <Card data-testid="out-of-scope">
      <Result
        status="403"
        title={t('access.outOfScope.title', '该居民不在您的管理或服务范围内')}
        subTitle={
          <>
            <div>{t('access.outOfScope.detail', '您只能查看本机构管理、诊治或签约的居民，以及您负责辖区内的居民。')}</div>
            <div>
              {canBreakGlass
                ? t('access.outOfScope.breakGlassHint', '如因急救等紧急情况必须查看，可申请紧急访问（破窗）。')
                : t('access.outOfScope.noBreakGlass', '您的角色没有紧急访问权限；如需查看，请联系该居民的管理机构。')}
            </div>
          </>
        }
        extra={[
          canBreakGlass && (
            <Button key="btg" type="primary" danger icon={<UnlockOutlined />} onClick={onBreakGlass} data-testid="break-glass-open">
              {t('access.breakGlass', '紧急访问（破窗）')}
            </Button>
          ),
          <Button key="back" href="#/residents">
            {t('record.backToList', '返回居民列表')}
          </Button>,
        ]}
      />
    </Card>
  );
}

interface BreakGlassForm {
  reason: string;
  minutes: number;
}

/** The request: a reason (at least 10 characters) and a duration; the grant is remembered on success. */
export function BreakGlassModal({
  patientId,
  open,
  onClose,
  onGranted,
}: {
  patientId: string;
  open: boolean;
  onClose(): void;
  onGranted(grant: BreakGlassGrantDto): void;
}) {
  const [form] = Form.useForm<BreakGlassForm>();
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<string>();
  const { message } = App.useApp();

  const submit = async () => {
    const values = await form.validateFields().catch(() => undefined);
    if (!values) return;
    setSaving(true);
    setFailure(undefined);
    try {
      const grant = await openBreakGlass(patientId, values.reason, values.minutes);
      message.success(t('access.granted', '已开启紧急访问，至 {time} 结束', { time: clockTime(grant.expiresAt) }));
      form.resetFields();
      onGranted(grant);
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('access.breakGlass', '紧急访问（破窗）')}
      onOk={submit}
      onCancel={onClose}
      okText={t('access.confirm', '确认紧急访问')}
      cancelText={t('common.cancel', '取消')}
      okButtonProps={{ danger: true, loading: saving }}
      destroyOnHidden
      wrapClassName="yf-break-glass-modal"
    >
      <Alert
        type="warning"
        showIcon
        style={{ marginBottom: 16 }}
        message={t('access.notice.title', '紧急访问仅用于急救等必要情形')}
        description={t('access.notice.detail', '本次访问将被完整记录，系统会通知该居民的管理机构，并由审计员事后审核其必要性。')}
      />
      <Form form={form} layout="vertical" initialValues={{ minutes: 60 }} requiredMark>
        <Form.Item
          name="reason"
          label={t('access.reason', '访问理由')}
          rules={[
            { required: true, whitespace: true, message: t('access.reasonRequired', '请说明紧急访问的理由') },
            {
              validator: (_, value: string | undefined) =>
                !value?.trim() || [...value.trim()].length >= MIN_REASON
                  ? Promise.resolve()
                  : Promise.reject(new Error(t('access.reasonTooShort', '理由至少 {n} 个字', { n: MIN_REASON }))),
            },
          ]}
        >
          <Input.TextArea
            rows={3}
            maxLength={1000}
            showCount
            placeholder={t('access.reasonPlaceholder', '例如：患者急诊昏迷，需查看既往病史与过敏史')}
            data-testid="break-glass-reason"
          />
        </Form.Item>
        <Form.Item name="minutes" label={t('access.duration', '访问时长')} required>
          <Radio.Group optionType="button" data-testid="break-glass-minutes">
            {BREAK_GLASS_MINUTES.map((m) => (
              <Radio.Button key={m} value={m}>
                {minutesLabel(m)}
              </Radio.Button>
            ))}
          </Radio.Group>
        </Form.Item>
      </Form>
      {failure && <Alert type="error" showIcon message={t('access.failed', '未能开启紧急访问')} description={failure} />}
    </Modal>
  );
}

/** The red banner while an emergency grant for this resident lasts. */
export function EmergencyBanner({ until }: { until: string }) {
  return (
    <Alert
      type="error"
      showIcon
      icon={<UnlockOutlined />}
      style={{ marginBottom: 16 }}
      data-testid="break-glass-banner"
      message={<strong>{t('access.banner', '紧急访问中，至 {time} 结束', { time: clockTime(until) })}</strong>}
      description={
        <Typography.Text type="secondary">
          {t('access.banner.detail', '本次访问已记录，该居民的管理机构已收到通知，审计员将进行审核。')}
        </Typography.Text>
      }
    />
  );
}
