import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { ProgrammesPage } from './programmes.component.js';
import type { DrillPage, ProgrammeIndicators, ProgrammeList, RegistryPage, Worklist } from './programmes.resource.js';

/** The deriving banner's look at the processors: nothing pending. */
const caughtUp = { catchingUp: false, pending: 0, processors: [] };

const year = String(new Date().getFullYear());
const list: ProgrammeList = {
  asOf: `${year}-06-01`,
  total: 2,
  rows: [
    {
      code: 'maternal',
      name: '孕产妇健康管理',
      source: '国家基本公共卫生服务规范（第三版）：孕产妇健康管理服务规范',
      enrolled: 12,
      versions: [
        {
          version: '第三版',
          effectiveFrom: '2017-01-01',
          effectiveTo: null,
          source: '国家基本公共卫生服务规范（第三版）',
          cycle: 'episode',
          managed: '每次产前检查和产后服务均在时间窗内完成',
          items: [
            {
              code: 'antenatal-1',
              name: '孕早期建册及第1次产前检查',
              service: 'antenatal-care',
              relativeTo: 'start',
              from: '0d',
              to: '13w',
              recommended: '孕13周前',
            },
          ],
        },
      ],
      indicators: [
        {
          code: 'early-registration-rate',
          version: '1',
          effectiveFrom: '2017-01-01',
          effectiveTo: null,
          name: '早孕建册率',
          numerator: '孕13周之前建册的产妇',
          denominator: '活产数',
          source: '规范',
          target: 85,
          targetSource: null,
        },
      ],
      flags: [{ code: 'high-risk', name: '高危孕产妇' }],
    },
    {
      code: 'elderly-65',
      name: '老年人健康管理',
      source: '国家基本公共卫生服务规范（第三版）：老年人健康管理服务规范',
      enrolled: 40,
      versions: [],
      indicators: [],
      flags: [],
    },
  ],
};
const worklist: Worklist = {
  programme: 'maternal',
  asOf: `${year}-06-01`,
  total: 41,
  counts: { due: 30, overdue: 11 },
  rows: [
    {
      patientId: 'p1',
      name: '王芳',
      gender: 'female',
      birthDate: '1995-01-01',
      episodeKey: 'Condition/c1',
      item: 'antenatal-2',
      itemName: '孕中期第1次产前检查',
      windowFrom: `${year}-05-01`,
      windowLast: `${year}-06-25`,
      recommended: '孕16～20周',
      status: 'due',
      flags: [],
      areaCode: null,
      organizationId: null,
    },
  ],
};
const registry: RegistryPage = { programme: 'maternal', asOf: `${year}-06-01`, total: 0, rows: [] };
const indicators: ProgrammeIndicators = {
  programme: 'maternal',
  period: { from: `${year}-01-01`, to: `${year}-12-31`, label: year },
  asOf: `${year}-06-01`,
  groupBy: 'total',
  definitions: list.rows[0]!.indicators,
  values: [
    { indicator: 'early-registration-rate', group: 'total', numerator: 8, denominator: 10, value: 80, target: 85, meetsTarget: false },
  ],
};
const drill: DrillPage = {
  programme: 'maternal',
  indicator: 'early-registration-rate',
  version: '1',
  source: '规范',
  period: indicators.period,
  total: 10,
  numerator: 8,
  rows: [
    {
      patientId: 'p9',
      name: '李娜',
      group: 'total',
      episodeKey: 'Condition/c9',
      startOn: `${year}-01-03`,
      endEventOn: null,
      inNumerator: true,
      delivered: {},
    },
  ],
};

describe('ProgrammesPage', () => {
  it(
    'lists the programmes, then the chosen one’s worklist paged with its total, and its indicators with drill-down',
    { timeout: 20_000 },
    async () => {
      const api = stubApi({
        '/api/processors/status': caughtUp,
        '/api/programmes': list,
        '/api/programmes/maternal/worklist': worklist,
        '/api/programmes/maternal/registry': registry,
        '/api/programmes/maternal/indicators': indicators,
        '/api/programmes/maternal/indicators/early-registration-rate/residents': drill,
      });
      renderPage(<ProgrammesPage />);
      expect(await screen.findByText('王芳', {}, { timeout: 5000 })).toBeTruthy();
      expect(screen.getByText('老年人健康管理')).toBeTruthy();
      expect(api.callsTo('GET /api/programmes/maternal/worklist')[0]!.path).toBe(
        '/api/programmes/maternal/worklist?status=all&limit=20&offset=0',
      );
      expect(screen.getByText('到期 30 项，逾期 11 项')).toBeTruthy();
      expect(screen.getByText('共 41 条')).toBeTruthy();
      expect(screen.getByText('孕16～20周')).toBeTruthy();

      fireEvent.click(screen.getByRole('tab', { name: '指标' }));
      expect(await screen.findByText('早孕建册率', {}, { timeout: 5000 })).toBeTruthy();
      expect(api.callsTo('GET /api/programmes/maternal/indicators')[0]!.path).toBe(`/api/programmes/maternal/indicators?period=${year}`);
      const row = screen.getByText('早孕建册率').closest('tr')!;
      expect(row.textContent).toContain('80.0%');
      expect(within(row).getByText('未达标')).toBeTruthy();
      fireEvent.click(within(row).getByRole('button', { name: '查看居民' }));
      expect(await screen.findByText('李娜', {}, { timeout: 5000 })).toBeTruthy();
      await waitFor(() => expect(api.unmatched).toEqual([]));
    },
  );

  it('groups the indicators by family-doctor team with the teams by name, and drills into one team', { timeout: 20_000 }, async () => {
    const byTeam: ProgrammeIndicators = {
      ...indicators,
      groupBy: 'team',
      values: [
        { ...indicators.values[0]!, group: '(none)', groupName: '未分配', numerator: 1, denominator: 4, value: 25 },
        { ...indicators.values[0]!, group: 'team-1', groupName: '北街第一家庭医生团队', numerator: 7, denominator: 8, value: 87.5 },
      ],
    };
    const api = stubApi({
      '/api/processors/status': caughtUp,
      '/api/programmes': list,
      '/api/programmes/maternal/worklist': worklist,
      '/api/programmes/maternal/registry': registry,
      '/api/programmes/maternal/indicators': (c: { path: string }) => (c.path.includes('groupBy=team') ? byTeam : indicators),
      '/api/programmes/maternal/indicators/early-registration-rate/residents': drill,
    });
    renderPage(<ProgrammesPage />);
    expect(await screen.findByText('王芳', {}, { timeout: 5000 })).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: '指标' }));
    expect(await screen.findByText('早孕建册率', {}, { timeout: 5000 })).toBeTruthy();
    fireEvent.click(screen.getByText('按签约团队'));
    const team = (await screen.findByText('北街第一家庭医生团队', {}, { timeout: 5000 })).closest('tr')!;
    expect(api.callsTo('GET /api/programmes/maternal/indicators').at(-1)!.path).toBe(
      `/api/programmes/maternal/indicators?period=${year}&groupBy=team`,
    );
    expect(team.textContent).toContain('87.5%');
    expect(screen.getByText('未分配')).toBeTruthy();
    fireEvent.click(within(team).getByRole('button', { name: '查看居民' }));
    expect(await screen.findByText('李娜', {}, { timeout: 5000 })).toBeTruthy();
    expect(api.callsTo('GET /api/programmes/maternal/indicators/early-registration-rate/residents')[0]!.path).toContain(
      'groupBy=team&group=team-1',
    );
    await waitFor(() => expect(api.unmatched).toEqual([]));
  });

  it("shows hypertension's next follow-up (下次随访) in words on the worklist; the registry's next due day, comorbidities and what was recorded by hand in words", async () => {
    const htn = {
      ...list.rows[1]!,
      code: 'hypertension',
      name: '高血压患者健康管理',
      flags: [{ code: 'diabetes', name: '合并糖尿病' }],
    };
    const api = stubApi({
      '/api/processors/status': caughtUp,
      '/api/programmes': { ...list, total: 1, rows: [htn] },
      '/api/programmes/hypertension/worklist': {
        ...worklist,
        programme: 'hypertension',
        total: 1,
        counts: { due: 0, overdue: 1 },
        rows: [
          {
            ...worklist.rows[0]!,
            name: '赵强',
            episodeKey: 'Condition/h1',
            item: 'next-follow-up',
            itemName: '下次随访',
            windowFrom: `${year}-04-16`,
            windowLast: `${year}-04-23`,
            recommended: `上次随访（${year}-04-02）未达标：14天内随访`,
            status: 'overdue',
          },
        ],
      },
      '/api/programmes/hypertension/registry': {
        programme: 'hypertension',
        asOf: `${year}-06-01`,
        total: 1,
        rows: [
          {
            patientId: 'p2',
            name: '赵强',
            gender: 'male',
            birthDate: '1950-01-01',
            episodeKey: 'Condition/h1',
            startOn: '2020-01-01',
            endOn: null,
            endEventOn: null,
            version: '2025',
            flags: ['diabetes'],
            controlled: false,
            lastService: `${year}-04-02`,
            services: 9,
            areaCode: null,
            organizationId: null,
            deceased: false,
            deceasedOn: null,
            nextItemFrom: null,
            missed: 0,
            nextDue: `${year}-04-16`,
            source: 'manual',
            registryStatus: 'transferred',
            statusOn: `${year}-05-01`,
            statusReason: '迁出本辖区',
          },
          // Died, as the Patient record says (deceasedDateTime): the episode ended that day; nothing was set by hand.
          {
            patientId: 'p3',
            name: '孙伟',
            gender: 'male',
            birthDate: '1945-03-03',
            episodeKey: 'Condition/h3',
            startOn: '2018-01-01',
            endOn: `${year}-03-09`,
            endEventOn: null,
            version: '2025',
            flags: [],
            controlled: true,
            lastService: `${year}-02-10`,
            services: 20,
            areaCode: null,
            organizationId: null,
            deceased: true,
            deceasedOn: `${year}-03-09`,
            nextItemFrom: null,
            missed: 0,
            nextDue: null,
            source: 'record',
            registryStatus: 'managed',
            statusOn: null,
            statusReason: null,
          },
        ],
      },
    });
    renderPage(<ProgrammesPage code="hypertension" />);
    expect(await screen.findByText('下次随访', {}, { timeout: 5000 })).toBeTruthy();
    expect(screen.getByText(`上次随访（${year}-04-02）未达标：14天内随访`)).toBeTruthy();
    const line = screen.getByText(`${year}-04-16 ～ ${year}-04-23`).closest('tr')!;
    expect(within(line).getByText('逾期')).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: '登记册' }));
    expect(await screen.findByText('合并糖尿病', {}, { timeout: 5000 })).toBeTruthy();
    const row = screen.getByText('合并糖尿病').closest('tr')!;
    expect(row.textContent).toContain(`${year}-04-16`);
    expect(screen.getByRole('columnheader', { name: '下次随访' })).toBeTruthy();
    expect(within(row).getByText('手工纳入')).toBeTruthy();
    expect(within(row).getByText(`${year}-05-01 转出`)).toBeTruthy();
    const died = screen.getByText('孙伟').closest('tr')!;
    expect(within(died).getByText(`${year}-03-09 死亡`)).toBeTruthy();
    await waitFor(() => expect(api.unmatched).toEqual([]));
  });

  it('shows dyslipidaemia (三高共管): the yearly lipid test on the worklist and the comorbidities in the registry, in words', async () => {
    const lipid = {
      ...list.rows[1]!,
      code: 'dyslipidaemia',
      name: '血脂异常患者健康管理（三高共管）',
      flags: [
        { code: 'hypertension', name: '合并高血压' },
        { code: 'three-highs', name: '三高共管（合并高血压或糖尿病）' },
      ],
    };
    const api = stubApi({
      '/api/processors/status': caughtUp,
      '/api/programmes': { ...list, total: 1, rows: [lipid] },
      '/api/programmes/dyslipidaemia/worklist': {
        ...worklist,
        programme: 'dyslipidaemia',
        total: 1,
        counts: { due: 1, overdue: 0 },
        rows: [
          {
            ...worklist.rows[0]!,
            name: '钱明',
            episodeKey: 'Condition/l1',
            item: 'annual-lipid-test',
            itemName: '年度血脂检测',
            windowFrom: `${year}-01-01`,
            windowLast: `${year}-12-31`,
            recommended: '达标后每6～12个月复查；每年至少1次',
            status: 'due',
          },
        ],
      },
      '/api/programmes/dyslipidaemia/registry': {
        programme: 'dyslipidaemia',
        asOf: `${year}-06-01`,
        total: 1,
        rows: [
          {
            patientId: 'p3',
            name: '钱明',
            gender: 'male',
            birthDate: '1962-01-01',
            episodeKey: 'Condition/l1',
            startOn: '2022-01-01',
            endOn: null,
            endEventOn: null,
            version: '2023',
            flags: ['hypertension', 'three-highs'],
            controlled: true,
            lastService: `${year}-03-02`,
            services: 3,
            areaCode: null,
            organizationId: null,
            deceased: false,
            deceasedOn: null,
            nextItemFrom: null,
            missed: 0,
            nextDue: null,
            source: 'record',
            registryStatus: 'managed',
            statusOn: null,
            statusReason: null,
          },
        ],
      },
    });
    renderPage(<ProgrammesPage code="dyslipidaemia" />);
    expect(await screen.findByText('年度血脂检测', {}, { timeout: 5000 })).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: '登记册' }));
    expect(await screen.findByText('三高共管（合并高血压或糖尿病）', {}, { timeout: 5000 })).toBeTruthy();
    const row = screen.getByText('合并高血压').closest('tr')!;
    // Words, not codes.
    expect(row.textContent).not.toContain('three-highs');
    await waitFor(() => expect(api.unmatched).toEqual([]));
  });
});
