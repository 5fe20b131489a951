import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { classBreaks, colourOf, SEQUENTIAL } from './colour-scale.js';
import { PortraitPage } from './portrait.component.js';
import type { CellResidents, PortraitMap, StreetProfile } from './portrait.resource.js';
import { StreetProfilePage } from './street-profile.component.js';

const S1 = '339905001000';
const S2 = '339905002000';
const S3 = '339905003000';
const square = (x: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, 29],
      [x + 0.1, 29],
      [x + 0.1, 29.1],
      [x, 29.1],
      [x, 29],
    ],
  ],
});
const info = (code: PortraitMap['indicator']['code'], name: string, standardised: boolean): PortraitMap['indicator'] => ({
  code,
  name,
  unit: code === 'infectious-incidence' ? 'per-100000' : 'percent',
  provider: 'p',
  standardised,
  note: 'n',
});
const hidden = { numerator: null, denominator: null, crude: null, standardised: null, smoothed: null, suppressed: true };

function map(cdc: boolean): PortraitMap {
  const incidence = info('infectious-incidence', '法定传染病报告发病率（每10万人口）', true);
  return {
    indicator: incidence,
    indicators: [incidence, info('htn-control', '高血压患者血压控制率', false)],
    period: { label: '2025', kind: 'year', from: '2025-01-01', to: '2025-12-31' },
    disease: null,
    diseases: [{ key: 'influenza', name: '流行性感冒' }],
    viewer: { cdc },
    minCell: 5,
    standardPopulation: { name: 'WHO World Standard Population 2000–2025', source: 'Ahmad OB et al. 2001' },
    district: { numerator: 11, denominator: 33, crude: 33333.33, standardised: 2300, smoothed: null, suppressed: false, suppression: null },
    streets: [
      {
        code: S1,
        name: '东街道',
        numerator: 6,
        denominator: 20,
        crude: 30000,
        standardised: 2405.16,
        smoothed: 31000,
        suppressed: false,
        suppression: null,
      },
      cdc
        ? {
            code: S2,
            name: '南街道',
            numerator: 5,
            denominator: 10,
            crude: 50000,
            standardised: 2209.23,
            smoothed: 36000,
            suppressed: true,
            suppression: 'complementary',
          }
        : { code: S2, name: '南街道', ...hidden, suppression: 'complementary' },
      cdc
        ? {
            code: S3,
            name: '西街道',
            numerator: 0,
            denominator: 3,
            crude: 0,
            standardised: 0,
            smoothed: 32000,
            suppressed: true,
            suppression: 'small',
          }
        : { code: S3, name: '西街道', ...hidden, suppression: 'small' },
    ],
    geography: {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: S1, name: '东街道' }, geometry: square(120) },
        { type: 'Feature', properties: { code: S2, name: '南街道' }, geometry: square(120.2) },
        { type: 'Feature', properties: { code: S3, name: '西街道' }, geometry: square(120.4) },
      ],
    },
  };
}

const row = async (code: string) => within(await screen.findByTestId(`portrait-row-${code}`));

afterEach(() => {
  window.location.hash = '';
});

describe('健康画像 map', () => {
  it('shows crude rates, the district rate and suppressed streets as 已抑制 for a role outside the CDC', async () => {
    const api = stubApi({ '/api/portrait/map': map(false) });
    renderPage(<PortraitPage initialPeriod="2025" />);
    const r1 = await row(S1);
    expect(r1.getByText('30,000')).toBeTruthy();
    expect(r1.getByText('2,405.16')).toBeTruthy();
    expect((await row(S3)).getAllByText('已抑制')).toHaveLength(3);
    expect((await row(S3)).getByText('人数少于 5')).toBeTruthy();
    expect((await row(S2)).getByText('互补抑制（防止由合计反推）')).toBeTruthy();
    expect(screen.getByTestId('portrait-district').textContent).toContain('33,333.33');
    expect(screen.getByTestId('portrait-note').textContent).toContain('1–4');
    expect(screen.getByTestId('portrait-legend').textContent).toContain('已抑制（少于 5 人）');
    expect(screen.getByTestId('portrait-map')).toBeTruthy();
    expect(api.calls[0]!.path).toBe('/api/portrait/map?indicator=infectious-incidence&period=2025');
    // No drill-down offered on a street shown on the map; the suppressed one answers its suppression.
    expect(r1.queryByText('下钻')).toBeNull();
  });

  it('colours by the smoothed rate when toggled, and shows the CDC every value with its flag', async () => {
    const api = stubApi({ '/api/portrait/map': map(true) });
    renderPage(<PortraitPage initialPeriod="2025" />);
    await row(S1);
    // Crude: 0 to 50 000 in six classes; smoothed: 31 000 to 36 000.
    expect(screen.getByTestId('portrait-legend').textContent).toContain('0–8,333.3');
    fireEvent.click(screen.getByText('平滑率（经验贝叶斯）'));
    await waitFor(() => expect(screen.getByTestId('portrait-legend').textContent).toContain('31,000–31,833.3'));
    // The CDC sees the small street's values, flagged.
    const r3 = await row(S3);
    expect(r3.getByText('人数少于 5 · 疾控可见')).toBeTruthy();
    expect(api.unmatched).toEqual([]);
  });

  it('opens a street’s profile from the table and drills down to the suppression outside the CDC', async () => {
    const suppressed: CellResidents = {
      indicator: 'infectious-incidence',
      street: S3,
      period: map(false).period,
      suppressed: true,
      total: null,
      residents: null,
      via: null,
      note: 'x',
    };
    const api = stubApi({ '/api/portrait/map': map(false), '/api/portrait/residents': suppressed });
    renderPage(<PortraitPage initialPeriod="2025" />);
    fireEvent.click((await row(S3)).getByText('下钻'));
    expect(await screen.findByTestId('portrait-drill-suppressed')).toBeTruthy();
    expect(api.callsTo('GET /api/portrait/residents')[0]!.path).toContain(`street=${S3}`);
    const link = screen.getByTestId(`portrait-street-${S1}`);
    expect(link.getAttribute('href')).toBe(`#/portrait/streets/${S1}?period=2025`);
  });
});

describe('colour scale', () => {
  it('is sequential from light to dark and puts each value in its class', () => {
    const b = classBreaks([0, 60]);
    expect(b.map((x) => x.colour)).toEqual([...SEQUENTIAL]);
    expect([colourOf(0, b), colourOf(10, b), colourOf(11, b), colourOf(60, b), colourOf(null, b)]).toEqual([
      SEQUENTIAL[0],
      SEQUENTIAL[0],
      SEQUENTIAL[1],
      SEQUENTIAL[5],
      null,
    ]);
    expect(classBreaks([])).toEqual([]);
  });
});

const figure = (n: number | null, d: number | null, v: number | null, s = false) => ({
  numerator: n,
  denominator: d,
  value: v,
  suppressed: s,
});
const profile: StreetProfile = {
  code: S3,
  name: '西街道',
  period: { label: '2025', kind: 'year', from: '2025-01-01', to: '2025-12-31' },
  viewer: { cdc: false },
  minCell: 5,
  population: {
    on: '2025-12-31',
    bands: ['0-6', '18-34'],
    rows: [
      { sex: 'male', counts: [0, null], total: null },
      { sex: 'female', counts: [0, null], total: null },
    ],
    totals: [0, null],
    total: null,
    ageUnknown: 0,
    suppressed: true,
  },
  programmes: [
    { disease: 'htn', name: '高血压', managed: 12, standardManagement: figure(9, 12, 75), control: figure(6, 12, 50), suppressed: false },
    {
      disease: 'dm',
      name: '2型糖尿病',
      managed: null,
      standardManagement: figure(null, null, null, true),
      control: figure(null, null, null, true),
      suppressed: true,
    },
  ],
  burden: {
    from: '2024-12-07',
    to: '2025-12-06',
    population: null,
    diseases: [{ key: 'influenza', name: '流行性感冒', cases: null, per100k: null, suppressed: true }],
    total: figure(null, null, null, true),
  },
  services: { contracts: [{ population: 'all', label: '全人群', ...figure(null, null, null, true) }], vaccineDoses: figure(0, 0, null) },
  notExported: ['Registered counts are not exported.'],
};

describe('street profile', () => {
  it('shows population, programmes, burden and services with suppressed figures as 已抑制', async () => {
    stubApi({ [`/api/portrait/streets/${S3}`]: profile });
    renderPage(<StreetProfilePage code={S3} period="2025" />);
    const programmes = within(await screen.findByTestId('profile-programmes'));
    expect(programmes.getByText('75%')).toBeTruthy();
    expect(programmes.getByText('12')).toBeTruthy();
    expect(programmes.getAllByText('已抑制').length).toBeGreaterThanOrEqual(3);
    expect(within(screen.getByTestId('profile-population')).getAllByText('已抑制').length).toBeGreaterThanOrEqual(4);
    expect(within(screen.getByTestId('profile-burden')).getByText('流行性感冒')).toBeTruthy();
    expect(within(screen.getByTestId('profile-services')).getAllByText('已抑制').length).toBeGreaterThanOrEqual(2);
    expect(screen.getByTestId('profile-suppressed-note').textContent).toContain('1–4');
    expect(screen.getByTestId('profile-not-exported').textContent).toContain('Registered counts');
  });
});
