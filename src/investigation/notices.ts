/**
 * Escalation notices that reach people: each notice is a FHIR Communication (category alert,
 * about the day's monitoring Task, addressed to the team, its supervisor, the team's organisation
 * and the CDC), so `Communication?recipient=…&status=in-progress` is the receiving team's inbox
 * (工作台); and an outbox row per recipient and channel — 'inbox' delivered when written, 'sms' sent
 * by the dispatcher here through a pluggable transport (the resident portal's `SmsTransport`: its
 * HTTP gateway, YIFANG_SMS_GATEWAY_URL, or the server log), retried with backoff and given up
 * after MAX_NOTICE_ATTEMPTS. Acknowledging the notice completes the Communication and discards
 * the messages not yet sent.
 *
 * The portal's own outbox dispatcher (`dispatchOutbox`) sends only the portal's rows (sign-in
 * codes, reminders to residents), and its table is the portal's: the transports and the dispatch
 * loop with its backoff (`dispatchSms`) are reused, the small queue and its SQL are this module's.
 */
import type { CareTeam, Communication, ContactPoint, Organization, Practitioner } from '@medplum/fhirtypes';
import { dispatchSms, type SmsQueue, type SmsTransport } from '../portal/index.js';
import type { Database } from '../platform/db.js';
import * as outbox from './store-notices.js';
import type { Recipient } from './store-visits.js';

export const ESCALATION_ID_SYSTEM = 'https://yifang.health/fhir/sid/investigation-escalation';
export const COMMUNICATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/communication-category';
export const MAX_NOTICE_ATTEMPTS = 5;
const BATCH = 50;

export const escalationCommunicationId = (escalationId: number) => `inv-escalation-${escalationId}`;

/** A FHIR reference a Communication can be addressed to (not a username or a role). */
const isFhirRef = (ref: string) =>
  /^(CareTeam|Practitioner|PractitionerRole|Organization|Patient|RelatedPerson|Group)\/[A-Za-z0-9\-.]{1,64}$/.test(ref);

/** A resource's phone for text messages: an SMS or mobile number first, then any phone. */
export function phoneOf(r: { telecom?: ContactPoint[] } | undefined): string | null {
  const t = (r?.telecom ?? []).filter((x) => x.value && (x.system === 'sms' || x.system === 'phone') && !x.period?.end);
  const pick = t.find((x) => x.system === 'sms') ?? t.find((x) => x.use === 'mobile') ?? t[0];
  return pick?.value?.replace(/[\s-]/g, '') ?? null;
}

/** A name shown in a text message: the family name and a mask (张**), never the whole name. */
export function maskedName(name: string | null | undefined): string {
  const chars = [...(name ?? '').trim()];
  return chars.length ? `${chars[0]}${'*'.repeat(Math.min(2, Math.max(1, chars.length - 1)))}` : '';
}

export interface NoticeFacts {
  escalationId: number;
  contactId: number;
  day: string;
  investigationId: number;
  patientId: string;
  contactName: string | null;
  taskId: string;
  diseaseName: string;
  recipients: Recipient[];
  /** The organisation of the contact's team (the centre), addressed too so its 工作台 shows the notice. */
  teamOrganization: string | null;
  sent: string;
}

/** The words of a notice: on the Communication in full, in a text message with the name masked. */
export function noticeText(n: NoticeFacts, forSms: boolean): string {
  const who = forSms
    ? `密接${maskedName(n.contactName) ? `（${maskedName(n.contactName)}）` : ''}`
    : `密接 ${n.contactName ?? n.patientId}`;
  return forSms
    ? `【医防】漏访上报：${n.diseaseName}${who} ${n.day} 的每日健康监测超过24小时未完成，请尽快联系并在工作台确认（流调 ${n.investigationId}）。`
    : `漏访上报 / Missed daily check escalated: ${n.diseaseName}${who} — ${n.day} 的每日健康监测超过24小时未完成，请尽快联系并确认。The check of ${n.day} is still missing a day after it was due (investigation ${n.investigationId}, contact ${n.contactId}).`;
}

/** The notice as a FHIR Communication: in progress until acknowledged, about the day's Task. */
export function escalationCommunication(n: NoticeFacts): Communication {
  const display = new Map(n.recipients.map((r) => [r.ref, r.display]));
  const refs = [...n.recipients.map((r) => r.ref), ...(n.teamOrganization ? [`Organization/${n.teamOrganization}`] : [])];
  const recipients = [...new Set(refs)]
    .filter(isFhirRef)
    .map((ref) => ({ reference: ref, ...(display.has(ref) ? { display: display.get(ref) } : {}) }));
  return {
    resourceType: 'Communication',
    id: escalationCommunicationId(n.escalationId),
    identifier: [{ system: ESCALATION_ID_SYSTEM, value: String(n.escalationId) }],
    status: 'in-progress',
    category: [{ coding: [{ system: COMMUNICATION_CATEGORY_SYSTEM, code: 'alert', display: 'Alert' }], text: '漏访上报' }],
    priority: 'urgent',
    subject: { reference: `Patient/${n.patientId}` },
    about: [{ reference: `Task/${n.taskId}` }],
    topic: { text: '密切接触者每日健康监测漏访 / missed daily monitoring of a close contact' },
    sent: n.sent,
    recipient: recipients,
    payload: [{ contentString: noticeText(n, false) }],
  };
}

/** The Communication once the notice is acknowledged: completed, with who, when and the note. */
export function acknowledgedCommunication(c: Communication, by: string, at: string, note: string | null): Communication {
  return {
    ...c,
    status: 'completed',
    received: at,
    note: [...(c.note ?? []), { authorString: by, time: at, text: `已确认 / acknowledged${note ? `：${note}` : ''}` }],
  };
}

/** Whom a recipient's text message goes to: the resource it names, read by the caller. */
export type RecipientResource = CareTeam | Practitioner | Organization | undefined;

/**
 * The outbox rows of one notice: an inbox row per recipient (delivered: the Communication, or the
 * 漏访上报 screen for the investigator), and a text message to each recipient with a phone on
 * record (discarded, 'no phone', for the others, so the screen says why none went).
 */
export function noticeRows(n: NoticeFacts, resources: ReadonlyMap<string, RecipientResource>): outbox.NewNotice[] {
  const rows: outbox.NewNotice[] = [];
  const sms = noticeText(n, true);
  const inbox = noticeText(n, false);
  for (const r of n.recipients) {
    rows.push({
      escalationId: n.escalationId,
      channel: 'inbox',
      recipientKind: r.kind,
      recipientRef: r.ref,
      recipientDisplay: r.display,
      phone: null,
      body: inbox,
      status: 'delivered',
      lastError: null,
    });
    if (r.kind === 'investigator') continue;
    const phone = phoneOf(resources.get(r.ref));
    rows.push({
      escalationId: n.escalationId,
      channel: 'sms',
      recipientKind: r.kind,
      recipientRef: r.ref,
      recipientDisplay: r.display,
      phone,
      body: sms,
      status: phone ? 'queued' : 'discarded',
      lastError: phone ? null : 'no phone on record / 无联系电话',
    });
  }
  return rows;
}

/** The notices' text messages as an SMS queue: the portal's dispatch loop over this module's table. */
const noticeQueue = (db: Database): SmsQueue<outbox.QueuedNotice> => ({
  claim: (now, limit) => outbox.claimDueNotices(db.pool, now.toISOString(), limit),
  reference: (row) => `inv-notice-${row.id}`,
  maxAttempts: () => MAX_NOTICE_ATTEMPTS,
  noPhone: (row) => outbox.noticeFailed(db.pool, row.id, 'no phone', true, 0),
  sent: (row, ref) => outbox.noticeSent(db.pool, row.id, ref),
  failed: (row, f) => outbox.noticeFailed(db.pool, row.id, f.error, f.giveUp, f.waitSeconds),
});

/** Sends the text messages that are due; answers how many were sent and how many failed this round. */
export function dispatchNotices(db: Database, transport: SmsTransport, now = new Date()): Promise<{ sent: number; failed: number }> {
  return dispatchSms(noticeQueue(db), transport, now, BATCH);
}
