/**
 * 行动轨迹 tab: the case's stays on a timeline and, beside it, a map of the places — the
 * facilities and wards where it stayed and the registry places of its school or care home — with
 * the visits joined in order by arrows (ECharts, drawn on the district's streets as the alert
 * board's map is; without the district geography the places are drawn on plain longitude and
 * latitude axes). Places without coordinates are named under the map.
 */
import { useEffect, useMemo, useState } from 'react';
import { Alert, Col, Empty, Row, Skeleton, Tag, Timeline, Typography } from 'antd';
import { isAbort } from '../api/http.js';
import { EChart } from '../charts/echart.component.js';
import type { EChartsOption } from '../charts/echarts.js';
import { t } from '../i18n/i18n.js';
import { getGeography } from '../surveillance/surveillance.resource.js';
import { DISTRICT_MAP, registerDistrictMap } from '../surveillance/map.js';
import { getTrajectory, type Trajectory, type TrajectoryPlace } from './investigation.resource.js';
import { chinaTime } from './labels.js';
import { useNames } from './useNames.js';

const placeKindLabel = (kind: string) =>
  ({
    room: t('inv.traj.room', '病房'),
    ward: t('inv.traj.ward', '病区'),
    department: t('inv.traj.department', '科室'),
    facility: t('inv.traj.facility', '医疗机构'),
    school: t('inv.traj.school', '学校'),
    'care-home': t('inv.traj.careHome', '养老机构'),
  })[kind] ?? kind;

const KIND_COLOURS: Record<string, string> = { facility: '#1677ff', ward: '#722ed1', school: '#fa8c16', 'care-home': '#13c2c2' };

/** The visits in order as place indices, each move between two different places once per step. */
export function visitOrder(data: Trajectory): number[] {
  const out: number[] = [];
  for (const s of data.items) if (s.placeIndex !== null && out[out.length - 1] !== s.placeIndex) out.push(s.placeIndex);
  return out;
}

/** The map's ECharts option: numbered places, arrows from each visit to the next, the registry places apart. */
export function trajectoryMapOption(data: Trajectory, onGeo: boolean): EChartsOption {
  const order = visitOrder(data);
  const visitNumbers = new Map<number, number[]>();
  order.forEach((p, i) => visitNumbers.set(p, [...(visitNumbers.get(p) ?? []), i + 1]));
  const coord = (p: TrajectoryPlace) => [p.longitude, p.latitude];
  const points = data.places.map((p, i) => ({
    name: p.name,
    value: coord(p),
    label: {
      show: true,
      formatter: visitNumbers.has(i) ? `${visitNumbers.get(i)!.join('、')} ${p.name}` : p.name,
      position: 'right',
      fontSize: 11,
    },
    itemStyle: { color: KIND_COLOURS[p.kind] ?? '#1677ff' },
    tip: `${placeKindLabel(p.kind)}：${p.name}${visitNumbers.has(i) ? `（${t('inv.traj.visitNo', '第 {n} 站', { n: visitNumbers.get(i)!.join('、') })}）` : ''}`,
  }));
  const moves = order.slice(1).map((to, i) => ({ coords: [coord(data.places[order[i]!]!), coord(data.places[to]!)] }));
  const system = onGeo ? { coordinateSystem: 'geo' } : { coordinateSystem: 'cartesian2d' };
  const series = [
    {
      type: 'lines',
      ...system,
      data: moves,
      symbol: ['none', 'arrow'],
      symbolSize: 8,
      lineStyle: { color: '#cf1322', width: 2, opacity: 0.8, curveness: 0.15 },
      silent: true,
      zlevel: 1,
    },
    { type: 'scatter', ...system, data: points, symbolSize: 12, zlevel: 2 },
  ];
  const tooltip = { trigger: 'item', formatter: (p: { data?: { tip?: string } }) => p.data?.tip ?? '' };
  if (onGeo)
    return {
      tooltip,
      geo: {
        map: DISTRICT_MAP,
        roam: true,
        itemStyle: { borderColor: '#fff', borderWidth: 1, areaColor: '#e6f4f1' },
        emphasis: { disabled: true },
        silent: true,
      },
      series,
    } as EChartsOption;
  const lons = data.places.map((p) => p.longitude);
  const lats = data.places.map((p) => p.latitude);
  const pad = 0.01;
  return {
    tooltip,
    grid: { left: 60, right: 120, top: 20, bottom: 40 },
    xAxis: { type: 'value', name: t('inv.traj.lon', '经度'), min: Math.min(...lons) - pad, max: Math.max(...lons) + pad, scale: true },
    yAxis: { type: 'value', name: t('inv.traj.lat', '纬度'), min: Math.min(...lats) - pad, max: Math.max(...lats) + pad, scale: true },
    series,
  } as EChartsOption;
}

function TrajectoryMap({ data }: { data: Trajectory }) {
  const [geo, setGeo] = useState<boolean | undefined>(undefined);
  useEffect(() => {
    const ctrl = new AbortController();
    getGeography('street', ctrl.signal)
      .then((g) => {
        if (g.features.length) registerDistrictMap(g);
        setGeo(g.features.length > 0);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setGeo(false);
      });
    return () => ctrl.abort();
  }, []);
  const option = useMemo(() => (geo === undefined ? null : trajectoryMapOption(data, geo)), [data, geo]);
  return (
    <div data-testid="trajectory-map-panel">
      {data.places.length === 0 ? (
        <Empty description={t('inv.traj.noPlaces', '没有已知坐标的地点')} />
      ) : option ? (
        <EChart option={option} height={420} testId="trajectory-map" ariaLabel={t('inv.traj.map', '行动轨迹地图')} />
      ) : (
        <Skeleton active />
      )}
      {data.withoutPosition.length > 0 && (
        <Typography.Paragraph type="secondary" data-testid="trajectory-unplaced" style={{ marginTop: 8 }}>
          {t('inv.traj.unplaced', '以下地点无坐标，未在地图上标出：{names}', { names: data.withoutPosition.join('、') })}
        </Typography.Paragraph>
      )}
    </div>
  );
}

export function TrajectoryTab({ investigationId }: { investigationId: number }) {
  const [data, setData] = useState<Trajectory>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    getTrajectory(investigationId, ctrl.signal)
      .then(setData)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [investigationId]);
  const names = useNames([], data?.items.map((s) => s.facility) ?? []);
  if (error) return <Alert type="error" showIcon message={error} />;
  if (!data) return <Skeleton active />;
  const order = visitOrder(data);
  return (
    <div data-testid="trajectory">
      <Typography.Paragraph type="secondary">
        {t('inv.traj.range', '{from} 至 {to} 期间在各医疗机构的就诊与住院（自发病前最长潜伏期起），共 {n} 段', {
          from: chinaTime(data.from),
          to: chinaTime(data.to),
          n: data.items.length,
        })}
      </Typography.Paragraph>
      <Row gutter={16}>
        <Col xs={24} lg={10}>
          {data.items.length === 0 ? (
            <Empty description={t('inv.traj.none', '该期间没有就诊或住院记录')} />
          ) : (
            <Timeline
              items={data.items.map((s) => {
                const stop = s.placeIndex === null ? -1 : order.indexOf(s.placeIndex);
                return {
                  key: `${s.encounterId}-${s.kind}-${s.place}`,
                  color: s.end ? 'gray' : 'green',
                  children: (
                    <div data-testid="trajectory-stop">
                      <Typography.Text type="secondary" style={{ marginInlineEnd: 12 }}>
                        {chinaTime(s.start)}
                      </Typography.Text>
                      <Typography.Text strong>{s.facilityName ?? names.facility(s.facility)}</Typography.Text>
                      {stop >= 0 && (
                        <Tag color="red" style={{ marginInlineStart: 8 }}>
                          {t('inv.traj.onMap', '地图第 {n} 站', { n: stop + 1 })}
                        </Tag>
                      )}
                      <div>
                        <Tag>{placeKindLabel(s.kind)}</Tag>
                        {s.place}
                      </div>
                      <Typography.Text type="secondary">
                        {t('inv.traj.admit', '入院 {time}', { time: chinaTime(s.start) })} ·{' '}
                        {s.end ? t('inv.traj.discharge', '出院 {time}', { time: chinaTime(s.end) }) : t('inv.traj.stillThere', '仍在院')}
                      </Typography.Text>
                    </div>
                  ),
                };
              })}
            />
          )}
        </Col>
        <Col xs={24} lg={14}>
          <TrajectoryMap data={data} />
        </Col>
      </Row>
    </div>
  );
}
