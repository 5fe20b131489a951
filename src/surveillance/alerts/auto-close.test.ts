/**
 * Alerts nobody acted on close themselves once their evidence is over the configured age
 * (fusion.json autoCloseDays, 28): each with an event saying why; touched alerts stay open.
 */
import { expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { surveillanceRuntime } from '../index.js';

describeEachStore('stale alerts close themselves', (server) => {
  it('closes untouched alerts whose newest evidence is over 28 days old, with the reason, and leaves the rest', async () => {
    const db = server().db;
    const add = async (status: string, lastDay: string) =>
      (
        await db.query<{ id: number }>(
          `INSERT INTO surv_alert (status, level, area_code, title, first_evidence_day, trigger_day, last_evidence_day)
           VALUES ($1, 'red', '339902001000', '测试预警', $2::date - 3, $2::date, $2::date) RETURNING id`,
          [status, lastDay],
        )
      ).rows[0]!.id;
    const old = await add('new', '2026-01-20');
    const touched = await add('triage', '2026-01-20');
    const recent = await add('new', '2026-02-10');
    const closed = await surveillanceRuntime.get(db)!.engine.closeStale('2026-03-01');
    expect(closed).toBe(1);
    const status = async (id: number) =>
      (await db.query<{ status: string }>('SELECT status FROM surv_alert WHERE id = $1', [id])).rows[0]!.status;
    expect([await status(old), await status(touched), await status(recent)]).toEqual(['closed', 'triage', 'new']);
    const ev = await db.query<{ actor: string; reason: string; to_status: string }>(
      `SELECT actor, reason, to_status FROM surv_alert_event WHERE alert_id = $1 AND action = 'transition'`,
      [old],
    );
    expect(ev.rows).toEqual([
      { actor: 'system', to_status: 'closed', reason: '无人处置，且最后一条证据已超过 28 天（2026-01-20），系统自动关闭' },
    ]);
    // Run again: nothing more to close.
    expect(await surveillanceRuntime.get(db)!.engine.closeStale('2026-03-01')).toBe(0);
  });
});
