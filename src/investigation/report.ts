/**
 * The investigation report (流调报告, issue #19 item 6) as a PDF: the case summary, the form's
 * answers, the trajectory, the contacts, the transmission chain and the epi curve, and the
 * isolation orders — every figure from the same service calls as the screens. Drawn with pdfkit
 * (vector lines and text, no browser) in a Chinese font found on the machine; without one the
 * caller is told what to install. Pure with respect to the store: it takes the data and returns
 * the bytes.
 */
import type { Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';
import { layoutChain } from '../shared/chain-layout.js';
import { chineseDocument, findChineseFont, NO_FONT_MESSAGE } from '../shared/report-file.js';
import { addDays, ageOn, chinaDateOf, chinaDateTimeOf } from '../shared/dates.js';
import type { Chain } from './chain.js';
import type { ContactList, Form, Investigation, Order, Trajectory } from './schemas.js';

// The Chinese font and the message without one are the shared report writer's.
export { findChineseFont, NO_FONT_MESSAGE } from '../shared/report-file.js';

export interface ReportInput {
  inv: Investigation;
  resident: { name: string; gender?: string; birthDate?: string };
  form: Form;
  trajectory: Trajectory;
  contacts: ContactList;
  chain: Chain;
  orders: Order[];
  names: ReadonlyMap<string, string>;
  facilityNames: ReadonlyMap<string, string>;
  generatedBy: string;
  generatedAt: Date;
}

const CLASSIFICATION: Record<string, string> = { suspected: '疑似病例', clinical: '临床诊断病例', confirmed: '确诊病例', excluded: '排除' };
const STATUS: Record<string, string> = { open: '待调查', 'in-progress': '调查中', closed: '已结案' };
const CONTACT_STATUS: Record<string, string> = { monitoring: '医学观察中', ended: '观察期满', 'became-case': '已转为疑似病例' };
const ORDER_KIND: Record<string, string> = { isolation: '隔离治疗', quarantine: '集中隔离医学观察', 'home-observation': '居家医学观察' };
const GENDER: Record<string, string> = { male: '男', female: '女', other: '其他', unknown: '未知' };
const COLOURS: Record<string, string> = { confirmed: '#D55E00', clinical: '#E69F00', suspected: '#0072B2', excluded: '#999999' };

/** An instant in China time, minutes. */
function chinaTime(iso: string | null | undefined): string {
  return iso ? chinaDateTimeOf(iso) : '—';
}

/** The answers in words: each question's text and its answer (choices by their display). */
function answerLines(form: Form): [string, string][] {
  const out: [string, string][] = [];
  const walk = (items: QuestionnaireItem[]) => {
    for (const item of items) {
      if (item.item?.length) walk(item.item);
      const v = form.answers[item.linkId];
      if (v === undefined || v === '' || item.type === 'group') continue;
      let text = String(v);
      if (typeof v === 'boolean') text = v ? '是' : '否';
      const choice = item.answerOption?.find((o) => o.valueCoding?.code === v);
      if (choice?.valueCoding?.display) text = choice.valueCoding.display;
      out.push([item.text ?? item.linkId, text]);
    }
  };
  walk((form.questionnaire as unknown as Questionnaire).item ?? []);
  return out;
}

export async function investigationReportPdf(input: ReportInput, font = findChineseFont()): Promise<Buffer> {
  if (!font) throw new Error(NO_FONT_MESSAGE);
  const { doc, done } = chineseDocument({ size: 'A4', margin: 48, info: { Title: `流行病学调查报告 ${input.inv.id}` } }, font);
  const { inv, resident } = input;
  const width = doc.page.width - 96;

  const heading = (text: string) => {
    if (doc.y > doc.page.height - 140) doc.addPage();
    doc.moveDown(0.8).fontSize(13).fillColor('#000').text(text).moveDown(0.3).fontSize(10);
  };
  const row = (cells: string[], widths: number[], bold = false) => {
    if (doc.y > doc.page.height - 72) doc.addPage();
    const y = doc.y;
    let x = 48;
    let h = 0;
    cells.forEach((c, i) => {
      doc.fillColor(bold ? '#333' : '#000').text(c, x, y, { width: widths[i]! - 6 });
      h = Math.max(h, doc.y - y);
      x += widths[i]!;
    });
    doc.x = 48;
    doc.y = y + h + 3;
  };

  // Title and case summary.
  doc.fontSize(18).text('流行病学个案调查报告', { align: 'center' });
  doc
    .moveDown(0.3)
    .fontSize(10)
    .fillColor('#555')
    .text(`调查编号 ${inv.id} · 生成于 ${chinaTime(input.generatedAt.toISOString())}（${input.generatedBy}）`, {
      align: 'center',
    });
  heading('一、病例概况');
  const age = resident.birthDate ? `${ageOn(resident.birthDate, chinaDateOf(input.generatedAt))} 岁` : '—';
  const summary: [string, string][] = [
    ['姓名', resident.name],
    ['性别 / 年龄', `${GENDER[resident.gender ?? ''] ?? '—'} / ${age}`],
    [
      '疾病',
      `${inv.diseaseName}（${inv.diseaseClass === 'A' ? '甲类' : inv.diseaseClass === 'B' ? '乙类' : inv.diseaseClass === 'C' ? '丙类' : inv.diseaseClass}）`,
    ],
    ['病例分类', CLASSIFICATION[inv.classification] ?? inv.classification],
    ['发病日期', inv.onsetDate ?? '—'],
    ['调查状态', STATUS[inv.status] ?? inv.status],
    ['调查人', inv.assignee ?? '未分派'],
    ['开始调查', `${chinaTime(inv.openedAt)}（${inv.openedBy}）`],
    ['调查时限', chinaTime(inv.deadlineAt)],
  ];
  if (inv.closedAt)
    summary.push(['结案', `${chinaTime(inv.closedAt)}（${inv.closedBy ?? ''}）${inv.closeNote ? ' ' + inv.closeNote : ''}`]);
  for (const [k, v] of summary) row([k, v], [110, width - 110]);

  heading('二、个案调查表');
  const answers = answerLines(input.form);
  if (!answers.length) doc.text('调查表尚未填写。');
  for (const [q, a] of answers) row([q, a], [200, width - 200]);

  heading('三、行动轨迹');
  if (!input.trajectory.items.length) doc.text('发病前最长潜伏期以来无就诊或住院记录。');
  else {
    row(['入院', '出院', '机构', '地点'], [100, 100, 150, width - 350], true);
    for (const s of input.trajectory.items)
      row(
        [chinaTime(s.start), s.end ? chinaTime(s.end) : '仍在院', input.facilityNames.get(s.facility) ?? s.facility, s.place],
        [100, 100, 150, width - 350],
      );
  }

  heading('四、密切接触者');
  const contacts = [
    ...input.contacts.items.map((c) => ({ ...c, who: input.names.get(c.patientId) ?? '（未具名）' })),
    ...input.contacts.outOfDistrict.map((c) => ({ ...c, who: `${c.name}（辖区外，已协查）` })),
  ];
  if (!contacts.length) doc.text('尚无确认的密切接触者。');
  else {
    row(['姓名', '接触方式', '末次接触', '观察期', '状态'], [90, 130, 80, 140, width - 440], true);
    for (const c of contacts) {
      const types = [...new Set(c.exposures.map((e) => e.type))].join('、');
      const last =
        c.exposures
          .map((e) => e.lastDate)
          .sort()
          .at(-1) ?? '—';
      row(
        [c.who, types, last, `${c.followUpStart} ～ ${c.followUpEnd}`, CONTACT_STATUS[c.status] ?? c.status],
        [90, 130, 80, 140, width - 440],
      );
    }
  }

  heading('五、传播链');
  drawChain(doc, input.chain, width);
  const si = input.chain.stats.serialInterval;
  doc.text(
    `病例 ${input.chain.stats.cases} 例，密切接触者 ${input.chain.stats.contacts} 人，传播 ${input.chain.stats.generations} 代${
      si ? `；代间隔均值 ${si.mean} 天，中位数 ${si.median} 天（n=${si.n}）` : ''
    }。`,
    48,
  );

  heading('六、流行曲线（按发病日期）');
  drawEpiCurve(doc, input.chain, width);

  heading('七、隔离与医学观察');
  if (!input.orders.length) doc.text('未签发隔离或医学观察通知书。');
  else {
    row(['对象', '类型', '地点', '期限', '状态'], [90, 110, 130, 130, width - 460], true);
    for (const o of input.orders)
      row(
        [
          o.patientId ? (input.names.get(o.patientId) ?? '—') : (o.personName ?? '—'),
          ORDER_KIND[o.kind] ?? o.kind,
          o.place,
          `${o.startDate} ～ ${o.endDate}`,
          o.status === 'active' ? '生效中' : `已撤销（${o.revokeReason ?? ''}）`,
        ],
        [90, 110, 130, 130, width - 460],
      );
  }

  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Writing below the bottom margin would start a new page: the footer sits in the margin.
    doc.page.margins.bottom = 0;
    doc
      .fontSize(8)
      .fillColor('#777')
      .text(`${inv.diseaseName} 流调报告 · 第 ${i + 1} 页，共 ${range.count} 页`, 48, doc.page.height - 36, {
        width,
        align: 'center',
        lineBreak: false,
      });
  }
  doc.end();
  return done;
}

/** The chain by time: one row band per cluster, arrows from who exposed to who was exposed. At most 400 people drawn. */
function drawChain(doc: PDFKit.PDFDocument, chain: Chain, width: number): void {
  const people = chain.nodes.id.length;
  const count = Math.min(400, people);
  if (!count) {
    doc.text('尚无病例。');
    return;
  }
  // The screen's layout (src/shared/chain-layout.ts), scaled to the page: the answer is oldest first, so the first 400 are the oldest.
  const layout = layoutChain(chain.nodes, count);
  const span = Math.max(1, layout.span);
  const total = layout.rows;
  const step = Math.max(6, Math.min(18, 220 / Math.max(1, total)));
  const height = total * step + 24;
  if (doc.y + height > doc.page.height - 72) doc.addPage();
  const top = doc.y + 6;
  const px = (i: number) => 48 + 10 + (layout.x[i]! / span) * (width - 80);
  const py = (i: number) => top + layout.y[i]! * step + step / 2;
  doc.save().lineWidth(0.5).strokeColor('#8c8c8c');
  for (let j = 0; j < chain.edges.from.length; j++) {
    const a = chain.edges.from[j]!;
    const b = chain.edges.to[j]!;
    if (a >= count || b >= count) continue;
    doc.moveTo(px(a), py(a)).lineTo(px(b), py(b)).stroke();
  }
  doc.restore();
  for (let i = 0; i < count; i++) {
    const [x, y] = [px(i), py(i)];
    const group = chain.groups[chain.nodes.group[i]!] ?? 'suspected';
    const name = chain.nodes.name[i];
    if (group !== 'contact') {
      doc.circle(x, y, 3.5).fill(COLOURS[group] ?? '#0072B2');
      if (count <= 60 && name)
        doc
          .fillColor('#000')
          .fontSize(7)
          .text(name, x + 5, y - 4, { lineBreak: false });
    } else doc.rect(x - 2, y - 2, 4, 4).fill('#BBBBBB');
  }
  const axisY = top + total * step + 4;
  doc.fontSize(7).fillColor('#555');
  doc.text(chain.firstDay, 48, axisY, { lineBreak: false });
  doc.text(addDays(chain.firstDay, span), 48 + width - 60, axisY, { lineBreak: false });
  doc.x = 48;
  doc.y = axisY + 14;
  doc
    .fontSize(8)
    .fillColor('#555')
    .text('圆点：病例（红 确诊，橙 临床诊断，蓝 疑似，灰 排除）；方块：密切接触者；横轴为发病或末次接触日期。', 48);
  if (people > count) doc.text(`仅绘出最早的 ${count} 人（共 ${people} 人）。`, 48);
  doc.fontSize(10).fillColor('#000');
}

/** Stacked bars per onset day. */
function drawEpiCurve(doc: PDFKit.PDFDocument, chain: Chain, width: number): void {
  const days = chain.epiCurve;
  if (!days.length) {
    doc.text('尚无病例。');
    return;
  }
  const height = 120;
  if (doc.y + height + 30 > doc.page.height - 72) doc.addPage();
  const top = doc.y + 4;
  const max = Math.max(1, ...days.map((d) => d.suspected + d.clinical + d.confirmed + d.excluded));
  const barW = Math.max(1, (width - 40) / days.length);
  doc
    .save()
    .lineWidth(0.5)
    .strokeColor('#999')
    .moveTo(78, top + height)
    .lineTo(48 + width, top + height)
    .stroke()
    .restore();
  doc
    .fontSize(7)
    .fillColor('#555')
    .text(String(max), 48, top, { lineBreak: false })
    .text('0', 60, top + height - 6, { lineBreak: false });
  days.forEach((d, i) => {
    let y = top + height;
    for (const k of ['confirmed', 'clinical', 'suspected', 'excluded'] as const) {
      const h = (d[k] / max) * height;
      if (h > 0) {
        doc.rect(80 + i * barW, y - h, Math.max(0.5, barW - 1), h).fill(COLOURS[k]!);
        y -= h;
      }
    }
  });
  doc.fillColor('#555').fontSize(7);
  doc.text(days[0]!.day, 80, top + height + 3, { lineBreak: false });
  doc.text(days[days.length - 1]!.day, 48 + width - 50, top + height + 3, { lineBreak: false });
  doc.x = 48;
  doc.y = top + height + 16;
  doc.fontSize(10).fillColor('#000');
}
