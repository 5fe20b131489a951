/**
 * The demo district's emergency side (issue #20 screens, #17 "a demo district that looks like
 * one"): the district's CDC, hospitals and community health centres from the registry file the
 * demo imported become emergency units, each with its teams (CDC: 流调队, 检测队, 消杀队;
 * hospitals and centres: 医疗救治队), members, training records and certificates (a few expired
 * or expiring, as in any real roster), the next two weeks' on-call rota, and reserves received
 * and used over the last 60 days (some below the 30-day standard, one batch near expiry).
 * Everything goes through the same /api/emergency routes a user would use. Deterministic.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { addDays, todayInChina } from '../shared/dates.js';

type Post = (url: string, body: unknown, method?: string) => Promise<{ statusCode: number; body: string }>;

const FAMILY = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾';
const GIVEN = ['建国', '丽华', '志强', '秀英', '海燕', '明', '静', '伟', '晓东', '婷', '军', '红梅', '磊', '芳', '涛', '敏'];

/** A small deterministic generator, so the demo is the same every time. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export async function loadDemoEmergency(outDir: string, post: Post, log: (m: string) => void): Promise<void> {
  const file = path.join(outDir, 'registry', 'organizations.csv');
  if (!fs.existsSync(file)) return;
  const rows = parse(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  const orgs = rows.map((r) => ({ code: r.code ?? '', name: r.name ?? '', type: r.type ?? '', area: r.area ?? '' }));
  const cdc = orgs.filter((o) => o.type === 'cdc');
  const hospitals = orgs.filter((o) => o.type === 'hospital').slice(0, 2);
  const centres = orgs.filter((o) => o.type === 'chc' || /社区卫生服务中心|卫生院/.test(o.name)).slice(0, 4);
  const units = [...cdc, ...hospitals, ...centres].filter((o) => o.code);
  if (!units.length) return;
  const random = rng(20261206);
  const today = todayInChina();
  let person = 0;
  let failures = 0;
  const send: Post = async (url, body, method) => {
    const r = await post(url, body, method);
    if (r.statusCode >= 400) failures++;
    return r;
  };

  for (const u of units) {
    await send('/api/emergency/units', { code: u.code, name: u.name, ...(/^\d{12}$/.test(u.area) ? { areaCode: u.area } : {}) });
    const kinds = u.type === 'cdc' ? (['epidemiology', 'testing', 'disinfection'] as const) : (['medical'] as const);
    for (const kind of kinds) {
      const name = `${u.name.replace(/^.*?区/, '')}${{ epidemiology: '流调队', testing: '检测队', disinfection: '消杀队', medical: '医疗救治队' }[kind]}`;
      const team = await send('/api/emergency/teams', { unit: u.code, kind, name });
      if (team.statusCode >= 400) continue;
      const teamId = (JSON.parse(team.body) as { id: number }).id;
      const members = Array.from({ length: 4 + Math.floor(random() * 3) }, (_, i) => {
        person++;
        return {
          practitionerId: `em-${u.code}-${person}`,
          name: `${FAMILY[(person * 7) % FAMILY.length]}${GIVEN[(person * 5) % GIVEN.length]}`,
          role: i === 0 ? 'leader' : i === 1 ? 'deputy' : 'member',
          phone: `139${String(10_000_000 + person * 7919).slice(-8)}`,
        };
      });
      await send(`/api/emergency/teams/${teamId}/members`, { members });
      for (const m of members) {
        const done = addDays(today, -Math.floor(60 + random() * 900));
        // Certificates of three years: most valid, some expiring within 90 days, a few expired.
        const r = random();
        const expires =
          r < 0.12
            ? addDays(today, -Math.floor(5 + random() * 60))
            : r < 0.3
              ? addDays(today, Math.floor(10 + random() * 80))
              : addDays(done, 1095);
        await send('/api/emergency/trainings', {
          practitionerId: m.practitionerId,
          name: m.name,
          kind: 'certificate',
          title:
            kind === 'epidemiology'
              ? '流行病学调查员证'
              : kind === 'testing'
                ? '病原微生物实验室生物安全培训合格证'
                : '突发事件卫生应急培训合格证',
          issuer: '市卫生健康委员会',
          completedOn: done < expires ? done : addDays(expires, -1095),
          expiresOn: expires,
        });
      }
      await send(
        `/api/emergency/teams/${teamId}/rota`,
        {
          entries: Array.from({ length: 14 }, (_, d) => ({
            day: addDays(today, d),
            practitionerIds: [members[d % members.length]!.practitionerId, members[(d + 1) % members.length]!.practitionerId],
          })),
        },
        'PUT',
      );
    }
    // Reserves: stock received two months ago, used since; PPE at the CDC kept to standard, some centres short.
    const items =
      u.type === 'cdc'
        ? ['n95', 'surgical-mask', 'gown', 'gloves', 'na-kit', 'antigen-kit']
        : ['n95', 'surgical-mask', 'gown', 'gloves', 'antigen-kit'];
    for (const [k, item] of items.entries()) {
      const short = u.type !== 'cdc' && k % 2 === 1;
      const quantity = (short ? 400 : 4000) + Math.floor(random() * 2000);
      await send('/api/emergency/reserves/receipts', {
        unit: u.code,
        item,
        batchNo: `${item.toUpperCase().replace(/-/g, '')}${today.slice(2, 4)}${String(100 + k)}`,
        expiresOn: item.endsWith('kit') && k === 4 ? addDays(today, 25) : addDays(today, 300 + Math.floor(random() * 400)),
        quantity,
        from: '市级应急物资储备库',
        at: `${addDays(today, -60)}T09:00:00+08:00`,
      });
      for (let w = 1; w <= 8; w++)
        await send('/api/emergency/reserves/issues', {
          unit: u.code,
          item,
          quantity: Math.max(1, Math.floor((quantity / 40) * (0.5 + random()))),
          to: '日常门诊及发热门诊',
          at: `${addDays(today, -60 + w * 7)}T10:00:00+08:00`,
        });
    }
  }
  log(
    `[demo] emergency: ${units.length} units, their teams, ${person} members, rota and reserves${failures ? ` (${failures} requests refused)` : ''}`,
  );
}
