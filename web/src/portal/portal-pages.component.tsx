/** The portal's smaller pages: home readings, who read my record, consents and reminders, notices, family-doctor contract, adding a child. */
import { useState, type FormEvent } from 'react';
import { t } from '../i18n/i18n-core.js';
import { roleLabel } from '../shell/roles.js';
import { portalApi, type ConsentAnswer } from './portal-api.js';
import { useLoad } from './use-load.js';

function Problem({ text }: { text?: string }) {
  return text ? (
    <p className="pt-error" role="alert">
      {text}
    </p>
  ) : null;
}

export function PortalReadings({ forId }: { forId?: string }) {
  const [kind, setKind] = useState<'blood-pressure' | 'glucose'>('blood-pressure');
  const [systolic, setSystolic] = useState('');
  const [diastolic, setDiastolic] = useState('');
  const [glucose, setGlucose] = useState('');
  const [fasting, setFasting] = useState(true);
  const [place, setPlace] = useState<'home' | 'kiosk'>('home');
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<string>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      const body =
        kind === 'blood-pressure'
          ? { kind, systolic: Number(systolic), diastolic: Number(diastolic), place }
          : { kind, glucose: Number(glucose), fasting, place };
      const r = await portalApi.addReading({ ...body, ...(forId ? { for: forId } : {}) });
      setDone(`${t('portal.readings.saved', '已保存，家庭医生可以看到')}：${r.text}${r.warning ? `。${r.warning}` : ''}`);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <section>
      <h2>{t('portal.readings.title', '录入自测数据')}</h2>
      <form onSubmit={submit} noValidate>
        <div className="pt-chips" role="group">
          <button type="button" aria-pressed={kind === 'blood-pressure'} onClick={() => setKind('blood-pressure')}>
            {t('portal.readings.bp', '血压')}
          </button>
          <button type="button" aria-pressed={kind === 'glucose'} onClick={() => setKind('glucose')}>
            {t('portal.readings.glucose', '血糖')}
          </button>
        </div>
        {kind === 'blood-pressure' ? (
          <>
            <label>
              {t('portal.readings.systolic', '收缩压（高压，mmHg）')}
              <input name="systolic" inputMode="numeric" value={systolic} onChange={(e) => setSystolic(e.target.value)} />
            </label>
            <label>
              {t('portal.readings.diastolic', '舒张压（低压，mmHg）')}
              <input name="diastolic" inputMode="numeric" value={diastolic} onChange={(e) => setDiastolic(e.target.value)} />
            </label>
          </>
        ) : (
          <>
            <label>
              {t('portal.readings.value', '血糖（mmol/L）')}
              <input name="glucose" inputMode="decimal" value={glucose} onChange={(e) => setGlucose(e.target.value)} />
            </label>
            <label className="pt-check">
              <input type="checkbox" checked={fasting} onChange={(e) => setFasting(e.target.checked)} />
              {t('portal.readings.fasting', '空腹')}
            </label>
          </>
        )}
        <label>
          {t('portal.readings.place', '测量地点')}
          <select value={place} onChange={(e) => setPlace(e.target.value as 'home' | 'kiosk')}>
            <option value="home">{t('portal.readings.home', '家中')}</option>
            <option value="kiosk">{t('portal.readings.kiosk', '健康小屋')}</option>
          </select>
        </label>
        <button type="submit">{t('portal.readings.save', '保存')}</button>
      </form>
      {done && (
        <p className="pt-note" role="status">
          {done}
        </p>
      )}
      <Problem text={error} />
    </section>
  );
}

/** A purpose-of-use code in words (the policy's list); free text as it was stated. */
export function purposeWords(code: string | null, text: string | null): string {
  const words: Record<string, () => string> = {
    TREAT: () => t('portal.purpose.TREAT', '诊疗'),
    ETREAT: () => t('portal.purpose.ETREAT', '急诊救治'),
    BTG: () => t('portal.purpose.BTG', '紧急访问'),
    CAREMGT: () => t('portal.purpose.CAREMGT', '健康管理'),
    PUBHLTH: () => t('portal.purpose.PUBHLTH', '公共卫生监测'),
    EPIINV: () => t('portal.purpose.EPIINV', '流行病学调查'),
    HQUALIMP: () => t('portal.purpose.HQUALIMP', '质量控制'),
    HOPERAT: () => t('portal.purpose.HOPERAT', '系统运行与数据交换'),
    HSYSADMIN: () => t('portal.purpose.HSYSADMIN', '系统管理'),
    PATRQT: () => t('portal.purpose.PATRQT', '本人或监护人查询'),
  };
  return (code && words[code]?.()) || text || t('portal.access.noPurpose', '未说明');
}

export function PortalAccessLog({ forId }: { forId?: string }) {
  const [offset, setOffset] = useState(0);
  const { data, error } = useLoad((signal) => portalApi.accessLog(forId, offset, signal), [forId, offset]);
  return (
    <section>
      <h2>{t('portal.access.title', '谁查看了我的档案')}</h2>
      <p className="pt-muted">{t('portal.access.intro', '每一次查看都会被记录，包括查看人、所在机构和用途。')}</p>
      <Problem text={error} />
      {data && (
        <>
          <p className="pt-muted">{t('portal.access.total', '共 {total} 次', { total: data.total })}</p>
          <ul className="pt-list">
            {data.rows.map((r, i) => (
              <li key={`${r.when}-${i}`}>
                <strong>
                  {r.who}
                  {r.roles.length ? `（${r.roles.map(roleLabel).join('、')}）` : ''}
                </strong>
                <span className="pt-muted">
                  {new Date(r.when).toLocaleString()} {r.organization ?? ''}
                </span>
                <span>
                  {t('portal.access.purpose', '用途')}：{purposeWords(r.purposeCode, r.purpose)} · {r.what}
                </span>
              </li>
            ))}
          </ul>
          <div className="pt-row">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - 20))}>
              {t('portal.prev', '上一页')}
            </button>
            <button type="button" disabled={offset + 20 >= data.total} onClick={() => setOffset(offset + 20)}>
              {t('portal.next', '下一页')}
            </button>
          </div>
        </>
      )}
    </section>
  );
}

export function PortalConsents({ forId }: { forId?: string }) {
  const { data, error, reload } = useLoad((signal) => portalApi.consents(forId, signal), [forId]);
  const prefs = useLoad((signal) => portalApi.preferences(signal), []);
  const [problem, setProblem] = useState<string>();
  async function toggle(c: ConsentAnswer['choices'][number]) {
    try {
      await portalApi.saveConsents(forId, [{ choice: c.choice, allow: !c.allow }]);
      reload();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  async function setPref(key: 'smsReminders' | 'noticeReminders', value: boolean) {
    try {
      await portalApi.savePreferences({ [key]: value });
      prefs.reload();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <section>
      <h2>{t('portal.consents.title', '授权与提醒')}</h2>
      <p className="pt-muted">
        {t(
          'portal.consents.intro',
          '取消勾选后立即生效：医院只能看到本院的记录，家庭医生看不到您的自测数据。急诊抢救和紧急访问仍可调阅，并会记入“谁看过我的档案”。',
        )}
      </p>
      <Problem text={error ?? problem} />
      <ul className="pt-list">
        {data?.choices.map((c) => (
          <li key={c.choice}>
            <label className="pt-check">
              <input type="checkbox" checked={c.allow} onChange={() => void toggle(c)} />
              {t(`portal.consent.${c.choice}`, c.label)}
            </label>
          </li>
        ))}
        {prefs.data && (
          <>
            <li>
              <label className="pt-check">
                <input type="checkbox" checked={prefs.data.smsReminders} onChange={(e) => void setPref('smsReminders', e.target.checked)} />
                {t('portal.prefs.sms', '短信提醒待办服务（每周最多一条）')}
              </label>
            </li>
            <li>
              <label className="pt-check">
                <input
                  type="checkbox"
                  checked={prefs.data.noticeReminders}
                  onChange={(e) => void setPref('noticeReminders', e.target.checked)}
                />
                {t('portal.prefs.notice', '门户内提醒')}
              </label>
            </li>
          </>
        )}
      </ul>
    </section>
  );
}

export function PortalNotices() {
  const { data, error, reload } = useLoad((signal) => portalApi.notices(signal), []);
  return (
    <section>
      <h2>{t('portal.notices.title', '消息')}</h2>
      <Problem text={error} />
      <ul className="pt-list">
        {data?.rows.map((n) => (
          <li key={n.id} className={n.read ? undefined : 'pt-unread'}>
            <span>{n.body}</span>
            <span className="pt-muted">{new Date(n.created).toLocaleString()}</span>
            {!n.read && (
              <button type="button" className="pt-link" onClick={() => void portalApi.readNotice(n.id).then(reload)}>
                {t('portal.notices.read', '标为已读')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {data && data.rows.length === 0 && <p className="pt-muted">{t('portal.notices.none', '暂无消息')}</p>}
    </section>
  );
}

export function PortalContract({ forId }: { forId?: string }) {
  const teams = useLoad((signal) => portalApi.teams(signal), []);
  const mine = useLoad((signal) => portalApi.contracts(forId, signal), [forId]);
  const [teamId, setTeamId] = useState('');
  const [pkg, setPkg] = useState('basic');
  const [kind, setKind] = useState<'sign' | 'renew' | 'transfer'>('sign');
  const [agree, setAgree] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [done, setDone] = useState<string>();
  const chosen = teams.data?.packages.find((p) => p.code === pkg);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    if (!teamId || !agree) {
      setProblem(t('portal.contract.incomplete', '请选择团队并勾选同意服务协议'));
      return;
    }
    try {
      await portalApi.sign({ ...(forId ? { for: forId } : {}), kind, teamId, package: pkg, agree: true });
      setDone(t('portal.contract.sent', '已在线签署，等待团队确认'));
      mine.reload();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  const statusText = (s: string) =>
    s === 'pending'
      ? t('portal.contract.pending', '待团队确认')
      : s === 'accepted'
        ? t('portal.contract.accepted', '已生效')
        : t('portal.contract.declined', '未同意');
  return (
    <section>
      <h2>{t('portal.contract.title', '家庭医生签约')}</h2>
      <Problem text={teams.error ?? mine.error ?? problem} />
      {mine.data && mine.data.current.length > 0 && (
        <p className="pt-note">
          {t('portal.contract.current', '当前签约：{team}，有效期至 {end}', {
            team: teams.data?.teams.find((x) => x.teamId === mine.data!.current[0]!.teamId)?.name ?? mine.data.current[0]!.teamId ?? '',
            end: mine.data.current[0]!.end ?? '—',
          })}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <label>
          {t('portal.contract.kind', '办理')}
          <select value={kind} onChange={(e) => setKind(e.target.value as 'sign' | 'renew' | 'transfer')}>
            <option value="sign">{t('portal.contract.sign', '签约')}</option>
            <option value="renew">{t('portal.contract.renew', '续约')}</option>
            <option value="transfer">{t('portal.contract.transfer', '转签到其他团队')}</option>
          </select>
        </label>
        <label>
          {t('portal.contract.team', '家庭医生团队')}
          <select value={teamId} onChange={(e) => setTeamId(e.target.value)}>
            <option value="">{t('portal.contract.chooseTeam', '请选择')}</option>
            {teams.data?.teams.map((x) => (
              <option key={x.teamId} value={x.teamId}>
                {x.name}
                {x.organizationName ? `（${x.organizationName}）` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('portal.contract.package', '服务包')}
          <select value={pkg} onChange={(e) => setPkg(e.target.value)}>
            {teams.data?.packages.map((p) => (
              <option key={p.code} value={p.code}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        {chosen && <p className="pt-muted">{chosen.services.join('、')}</p>}
        <label className="pt-check">
          <input type="checkbox" checked={agree} onChange={(e) => setAgree(e.target.checked)} />
          {t('portal.contract.agree', '我已阅读并同意《家庭医生签约服务协议》')}
        </label>
        <button type="submit">{t('portal.contract.submit', '在线签署')}</button>
      </form>
      {done && (
        <p className="pt-note" role="status">
          {done}
        </p>
      )}
      {mine.data && mine.data.requests.length > 0 && (
        <ul className="pt-list">
          {mine.data.requests.map((r) => (
            <li key={r.requestId}>
              <strong>
                {r.package} · {statusText(r.status)}
              </strong>
              <span className="pt-muted">{new Date(r.signedAt).toLocaleString()}</span>
              {r.reason && <span>{r.reason}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function PortalAddChild({ onLinked }: { onLinked: () => void }) {
  const [idNumber, setIdNumber] = useState('');
  const [problem, setProblem] = useState<string>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    try {
      await portalApi.linkWard(idNumber.trim().toUpperCase());
      setIdNumber('');
      onLinked();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <form onSubmit={submit} noValidate className="pt-inline">
      <label>
        {t('portal.child.idNumber', '添加孩子（身份证号）')}
        <input name="childIdNumber" maxLength={18} value={idNumber} onChange={(e) => setIdNumber(e.target.value)} />
      </label>
      <button type="submit">{t('portal.child.add', '添加')}</button>
      <Problem text={problem} />
    </form>
  );
}
