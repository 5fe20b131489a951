/** On the resident record: the other facilities' records of the same person (master patient index). */
import { useEffect, useState } from 'react';
import { Card, Table, Tag, Typography } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { fetchPersonOfPatient, type PersonView } from './identity.resource.js';

const ASSURANCE: Record<string, [string, string, string]> = {
  level4: ['identity.level4', '身份证号一致', 'green'],
  level3: ['identity.level3', '高度匹配', 'blue'],
  level2: ['identity.level2', '待核查', 'gold'],
  level1: ['identity.level1', '低', 'default'],
};

export function PersonFacilitiesCard({ patientId }: { patientId: string }) {
  const [person, setPerson] = useState<PersonView>();
  useEffect(() => {
    const c = new AbortController();
    fetchPersonOfPatient(patientId, c.signal)
      .then(setPerson)
      .catch((e: unknown) => {
        if (!isAbort(e)) setPerson(undefined);
      });
    return () => c.abort();
  }, [patientId]);
  if (!person) return null;
  return (
    <Card
      size="small"
      title={t('identity.facilities', '跨机构记录（同一居民）')}
      style={{ marginBottom: 16 }}
      className="yf-person-facilities"
    >
      <Table
        size="small"
        rowKey="patientId"
        pagination={false}
        dataSource={person.patients}
        columns={[
          { title: t('identity.facility', '来源机构'), key: 'f', render: (_, p) => p.data.facility || '—' },
          { title: t('identity.name', '姓名'), key: 'n', render: (_, p) => p.data.name || '—' },
          {
            title: t('identity.record', '记录'),
            key: 'r',
            render: (_, p) =>
              p.patientId === patientId ? (
                <Typography.Text type="secondary">{t('identity.thisRecord', '本记录')}</Typography.Text>
              ) : (
                <a href={`#/residents/${p.patientId}`}>{p.patientId}</a>
              ),
          },
          {
            title: t('identity.assurance', '关联依据'),
            key: 'a',
            render: (_, p) => {
              const [k, d, color] = ASSURANCE[p.assurance] ?? ['', p.assurance, 'default'];
              return <Tag color={color}>{k ? t(k, d) : d}</Tag>;
            },
          },
        ]}
      />
      {person.household.length > 1 && (
        <Typography.Text type="secondary">
          {t('identity.household', '同住址居民')}: {person.household.length}
        </Typography.Text>
      )}
    </Card>
  );
}
