/**
 * 居民登录: ID number + phone → a code by SMS → signed in. The server answers step 1 the same way
 * whether or not the pair matches a record, so this page says "if they match, a code was sent".
 */
import { useState, type FormEvent } from 'react';
import { t } from '../i18n/i18n-core.js';
import { portalApi, setPortalSession } from './portal-api.js';

const ID_PATTERN = /^\d{17}[\dXx]$/;
const PHONE_PATTERN = /^1\d{10}$/;

export function PortalLogin() {
  const [idNumber, setIdNumber] = useState('');
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [step, setStep] = useState<'ask' | 'code'>('ask');
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const idOk = ID_PATTERN.test(idNumber.trim());
  const phoneOk = PHONE_PATTERN.test(phone.trim());

  async function askCode(e: FormEvent) {
    e.preventDefault();
    if (!idOk || !phoneOk) {
      setError(t('portal.login.invalid', '请填写18位身份证号和11位手机号'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await portalApi.start(idNumber.trim().toUpperCase(), phone.trim());
      setNote(t('portal.login.sent', '如身份证号与手机号和健康档案一致，验证码已发送至该手机，5分钟内有效。'));
      setStep('code');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function signIn(e: FormEvent) {
    e.preventDefault();
    if (!/^\d{6}$/.test(code.trim())) {
      setError(t('portal.login.codeFormat', '请输入6位数字验证码'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const answer = await portalApi.finish(idNumber.trim().toUpperCase(), phone.trim(), code.trim());
      setPortalSession({ token: answer.access_token, displayName: answer.displayName });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="pt-login">
      <h1>{t('portal.title', '居民健康门户')}</h1>
      <p className="pt-muted">{t('portal.login.intro', '用身份证号和手机号登录，查看本人及孩子的健康档案。')}</p>
      {step === 'ask' ? (
        <form onSubmit={askCode} noValidate>
          <label>
            {t('portal.login.idNumber', '身份证号')}
            <input
              name="idNumber"
              inputMode="text"
              autoComplete="off"
              maxLength={18}
              value={idNumber}
              onChange={(e) => setIdNumber(e.target.value)}
            />
          </label>
          <label>
            {t('portal.login.phone', '手机号')}
            <input
              name="phone"
              inputMode="tel"
              autoComplete="tel"
              maxLength={11}
              value={phone}
              onChange={(e) => setPhone(e.target.value)}
            />
          </label>
          <button type="submit" disabled={busy}>
            {t('portal.login.getCode', '获取验证码')}
          </button>
        </form>
      ) : (
        <form onSubmit={signIn} noValidate>
          {note && <p className="pt-note">{note}</p>}
          <label>
            {t('portal.login.code', '验证码')}
            <input
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </label>
          <button type="submit" disabled={busy}>
            {t('portal.login.signIn', '登录')}
          </button>
          <button type="button" className="pt-link" onClick={() => setStep('ask')}>
            {t('portal.login.back', '重新获取验证码')}
          </button>
        </form>
      )}
      {error && (
        <p className="pt-error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}
