// Telegram's checks for `tether doctor`: the token (getMe), a webhook that blocks long polling, another poller, and the clock as Telegram's servers see it.
import { describeError } from '../lib/errors.js';
import type { DeployedProcess, Deployment } from './doctor-deployment.js';
import { otherLockHolder, readBridgeHealth } from './doctor-lock.js';
import { fail, ok, warn, type CheckResult } from './doctor-result.js';

/** Beyond this, pairing-code expiry and schedules drift visibly. */
const CLOCK_SKEW_WARN_S = 60;

interface BotApiAnswer {
  ok: boolean;
  result?: Record<string, unknown>;
  error_code?: number;
  description?: string;
  /** The server's Date header, in ms. */
  serverTime?: number;
}

/** One Bot API call. The URL carries the token, so nothing here ever shows it. */
async function callBotApi(apiRoot: string, token: string, method: string, timeoutMs: number): Promise<BotApiAnswer | { error: string }> {
  try {
    const res = await fetch(`${apiRoot}/bot${token}/${method}`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as BotApiAnswer;
    const date = Date.parse(res.headers.get('date') ?? '');
    return { ...body, ...(Number.isFinite(date) ? { serverTime: date } : {}) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? describeError(err).replaceAll(token, '[redacted]')) };
  }
}

export async function checkTelegram(d: Deployment, b: DeployedProcess, now = Date.now): Promise<CheckResult[]> {
  const token = b.env?.TELEGRAM_BOT_TOKEN;
  if (!token) return [];
  const apiRoot = (b.env?.TELEGRAM_API_ROOT ?? 'https://api.telegram.org').replace(/\/+$/, '');
  const timeoutMs = d.options.timeoutMs;
  const sentAt = now();
  const me = await callBotApi(apiRoot, token, 'getMe', timeoutMs);
  if ('error' in me) return [fail('telegram:bot', `cannot reach the Telegram Bot API (${me.error})`, 'check the host\'s outbound HTTPS and DNS (curl -sI https://api.telegram.org); some regions block Telegram')];
  if (!me.ok) {
    const refused = me.error_code === 401 || me.error_code === 404;
    return [fail('telegram:bot', `Telegram refused TELEGRAM_BOT_TOKEN (${me.error_code} ${me.description ?? ''})`.trim(), refused ? 'the token was revoked or mistyped: copy it again from @BotFather (/token) into telegram.env, then systemctl restart tether-telegram' : 'try again later; see docs/telegram.md')];
  }
  const results: CheckResult[] = [ok('telegram:bot', `Telegram accepts the token: @${String(me.result?.username ?? '?')}`)];
  if (me.serverTime !== undefined) {
    // The Date header has whole seconds and the answer took some time: allow for both.
    const skew = Math.round((sentAt - me.serverTime) / 1000);
    results.push(Math.abs(skew) > CLOCK_SKEW_WARN_S ? warn('clock', `this host's clock is ${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} Telegram's`, 'enable time sync: timedatectl set-ntp true') : ok('clock', `within ${CLOCK_SKEW_WARN_S} s of Telegram's`));
  }

  const hook = await callBotApi(apiRoot, token, 'getWebhookInfo', timeoutMs);
  if (!('error' in hook) && hook.ok) {
    const url = String(hook.result?.url ?? '');
    let host = 'an unreadable URL';
    try {
      host = new URL(url).host;
    } catch {
      // shown as it is described
    }
    results.push(url ? fail('telegram:webhook', `a webhook is set for this bot (to ${host}): Telegram refuses long polling while it is`, 'stop whatever else uses this bot token (it set the webhook); the bridge deletes the webhook when it starts, or: curl the Bot API deleteWebhook') : ok('telegram:webhook', 'no webhook: long polling works'));
  }

  const botId = String(me.result?.id ?? token.split(':')[0]);
  const adapter = readBridgeHealth(b.stateDir, 'telegram')?.adapter as { state?: string; conflicts?: number; likelyCause?: string } | undefined;
  const lockPid = otherLockHolder(b.stateDir, 'telegram', botId);
  if (adapter?.state === 'conflict') {
    results.push(fail('telegram:poller', `another program polls this bot: Telegram displaced our getUpdates ${adapter.conflicts ?? 'several'} time(s)${adapter.likelyCause ? ` (${adapter.likelyCause})` : ''}`, 'stop the other program or bridge using this token (another host, a dev laptop); two pollers answer nothing reliably'));
  } else if (lockPid) {
    results.push(fail('telegram:poller', `another tether telegram (pid ${lockPid}) holds this bot's lock`, `stop it (kill ${lockPid}) and let the unit run the bridge`));
  } else results.push(ok('telegram:poller', 'no other poller seen'));
  return results;
}
