import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { CardEvent, ReportCardDetail, ReportCardList, ReportCardRecord } from '../../../src/surveillance/schemas.js';
import { renderPage, stubApi, type ApiCall } from '../shared/test-support.js';
import { ReportCardsPage } from './report-cards.component.js';

const record = (id: string, over: Partial<ReportCardRecord> = {}): ReportCardRecord => ({
  id,
  status: 'submitted',
  cardType: 'initial',
  correctsCardId: null,
  patientId: null,
  diseaseKey: 'influenza',
  diseaseName: '流行性感冒',
  diseaseClass: '丙',
  icd10: 'J11.1',
  fixedThreshold: false,
  caseClassification: '确诊病例',
  areaCode: '339902001001',
  facilityCode: '339902GH001',
  facilityName: '望川区人民医院',
  onsetDate: '2025-06-06',
  diagnosedAt: '2025-06-06T10:00:00+08:00',
  deadlineAt: '2025-06-07T10:00:00+08:00',
  submittedAt: '2025-06-06T11:00:00+08:00',
  reviewedAt: null,
  reviewedBy: null,
  returnReason: null,
  late: false,
  incomplete: false,
  duplicateOf: null,
  countedDay: '2025-06-06',
  card: {
    name: '病例2',
    sex: '2',
    birthDate: '1985-03-04',
    residenceCategory: '本县区',
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '确诊病例',
    onsetDate: '2025-06-06',
    reportingDoctor: '王医生',
    address: { houseNumber: '2号', areaCode: '339902001001' },
    reportingOrganization: { id: 'org-339902GH001', code: '339902GH001', name: '望川区人民医院' },
    disease: { name: '流行性感冒', icd10: 'J11.1', class: '丙', subtype: null },
  },
  version: 3,
  createdAt: '2025-06-06T11:00:00+08:00',
  updatedAt: '2025-06-06T11:00:00+08:00',
  ...over,
});

const submitted: CardEvent = { action: 'submit', actor: '王医生', at: '2025-06-06T11:00:00+08:00', reason: null, detail: null };
const corrected: CardEvent = {
  action: 'correct',
  actor: 'admin',
  at: '2025-06-08T09:00:00+08:00',
  reason: '核对门诊病历，发病日期填写有误',
  detail: { changes: [{ field: 'onsetDate', before: '2025-06-05', after: '2025-06-06' }], previousVersion: 2 },
};

const list: ReportCardList = {
  total: 2,
  cards: [record('E2E-1', { diseaseName: '霍乱', status: 'reviewed' }), record('E2E-2')],
  counts: { all: 2, reviewed: 1, submitted: 1, overdue: 0 },
};

describe('ReportCardsPage: the card drawer', () => {
  it('shows the card with its status, disease and 订正 history in Chinese', async () => {
    stubApi({
      '/api/report-cards': list,
      '/api/report-cards/stats': [],
      '/api/report-cards/E2E-2': { ...record('E2E-2'), events: [submitted, corrected] } satisfies ReportCardDetail,
    });
    renderPage(<ReportCardsPage status="" open="E2E-2" />);

    const drawer = await screen.findByTestId('card-drawer');
    expect(within(drawer).getByText('传染病报告卡 E2E-2')).toBeTruthy();
    expect(within(drawer).getByText('待审核')).toBeTruthy();
    expect(within(drawer).getByText(/流行性感冒/)).toBeTruthy();
    // The form holds the card's values, read-only until 订正.
    expect((within(drawer).getByLabelText('姓名') as HTMLInputElement).value).toBe('病例2');
    expect((within(drawer).getByLabelText('发病日期') as HTMLInputElement).disabled).toBe(true);
    // Every correction: the reason, and each field before → after.
    const history = within(drawer).getByTestId('card-corrections');
    expect(history.textContent).toContain('核对门诊病历，发病日期填写有误');
    expect(history.textContent).toContain('发病日期 (onsetDate)');
    expect(history.textContent).toContain('2025-06-05');
    expect(history.textContent).toContain('2025-06-06');
    expect(within(drawer).getByRole('button', { name: '审核通过' })).toBeTruthy();
    // The list behind the drawer has both cards.
    expect(screen.getAllByTestId('card-link').map((a) => a.getAttribute('data-card-id'))).toEqual(['E2E-1', 'E2E-2']);
  });

  it('审核通过 sends the approval with the card version and shows the reviewed card', async () => {
    let reviewed = false;
    const api = stubApi({
      '/api/report-cards': list,
      '/api/report-cards/stats': [],
      '/api/report-cards/E2E-2': () => ({ ...record('E2E-2', reviewed ? { status: 'reviewed', version: 4 } : {}), events: [submitted] }),
      'POST /api/report-cards/E2E-2/review': (call: ApiCall) => {
        reviewed = true;
        return record('E2E-2', { status: 'reviewed', version: 4, reviewedBy: 'admin', ...(call.body as object) });
      },
    });
    renderPage(<ReportCardsPage status="" open="E2E-2" />);
    const drawer = await screen.findByTestId('card-drawer');
    fireEvent.click(within(drawer).getByTestId('card-approve'));

    await waitFor(() => expect(api.callsTo('POST /api/report-cards/E2E-2/review')).toHaveLength(1));
    expect(api.callsTo('POST /api/report-cards/E2E-2/review')[0]!.body).toEqual({ action: 'approve', version: 3 });
    await waitFor(() => expect(within(drawer).getByText('已审核')).toBeTruthy());
    expect(within(drawer).queryByTestId('card-approve')).toBeNull();
    expect(within(drawer).getByTestId('card-correct')).toBeTruthy();
  });

  it('pages on the server with the total and counts on the tabs', async () => {
    const api = stubApi({
      '/api/report-cards': (call: ApiCall) => {
        const q = new URL(call.path, 'http://x').searchParams;
        const offset = Number(q.get('offset') ?? 0);
        return {
          total: 45,
          cards: Array.from({ length: Math.min(20, 45 - offset) }, (_, i) => record(`C-${offset + i + 1}`)),
          counts: { all: 490, submitted: 45, draft: 40, overdue: 7 },
        };
      },
      '/api/report-cards/stats': [],
    });
    renderPage(<ReportCardsPage status="submitted" open="" />);
    await waitFor(() => expect(screen.getAllByTestId('card-link')).toHaveLength(20));
    expect(api.callsTo('GET /api/report-cards')[0]!.path).toBe('/api/report-cards?status=submitted&limit=20');
    const tabs = [...document.querySelectorAll('.ant-tabs-tab')].map((t) => t.textContent);
    expect(tabs).toEqual(['全部 (490)', '草稿 (40)', '超时未报 (7)', '待审核 (45)', '已审核', '已退卡']);
    expect(screen.getByText('共 45 张')).toBeTruthy();
    fireEvent.click(document.querySelector('.ant-pagination-item-3')!);
    await waitFor(() =>
      expect(screen.getAllByTestId('card-link').map((a) => a.getAttribute('data-card-id'))).toEqual([
        'C-41',
        'C-42',
        'C-43',
        'C-44',
        'C-45',
      ]),
    );
    expect(api.callsTo('GET /api/report-cards').at(-1)!.path).toBe('/api/report-cards?status=submitted&limit=20&offset=40');
  });

  it('warns before approving a duplicate card, and approves only when confirmed', async () => {
    const api = stubApi({
      '/api/report-cards': list,
      '/api/report-cards/stats': [],
      '/api/report-cards/E2E-2': { ...record('E2E-2', { duplicateOf: 'E2E-1' }), events: [submitted] },
      'POST /api/report-cards/E2E-2/review': () => record('E2E-2', { status: 'reviewed', version: 4 }),
    });
    renderPage(<ReportCardsPage status="" open="E2E-2" />);
    const drawer = await screen.findByTestId('card-drawer');
    fireEvent.click(within(drawer).getByTestId('card-approve'));
    expect((await screen.findAllByText('这张卡疑似重卡')).length).toBeGreaterThan(0);
    expect(api.callsTo('POST /api/report-cards/E2E-2/review')).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: '仍然审核通过' }));
    await waitFor(() => expect(api.callsTo('POST /api/report-cards/E2E-2/review')).toHaveLength(1));
  });
});
