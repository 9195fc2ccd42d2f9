// Feishu's checks for `tether doctor`: the app's credentials (tenant token), the bot, the long-connection endpoint, what the app cannot see of its subscriptions, and another bridge on the app.
import { loadFeishuConfig, type FeishuConfig } from '../lib/config.js';
import { describeError } from '../lib/errors.js';
import { CREDENTIALS_FIX } from '../bridges/feishu/failures.js';
import type { DeployedProcess, Deployment } from './doctor-deployment.js';
import { otherLockHolder, readBridgeHealth } from './doctor-lock.js';
import { fail, ok, warn, type CheckResult } from './doctor-result.js';

interface FeishuAnswer {
  code?: number;
  msg?: string;
  tenant_access_token?: string;
  bot?: { app_name?: string; open_id?: string; activate_status?: number };
}

type Reply = { status: number; body: FeishuAnswer } | { error: string };

/**
 * One open-platform call with a timeout. The doctor asks plainly rather than through the SDK's
 * Client: the Client swallows the token endpoint's code into an error string and its WSClient
 * would open a real long connection (taking events from the running bridge) to learn the endpoint's.
 */
async function callFeishu(url: string, init: { method: 'GET' | 'POST'; body?: unknown; token?: string }, timeoutMs: number): Promise<Reply> {
  try {
    const res = await fetch(url, {
      method: init.method,
      headers: { 'content-type': 'application/json; charset=utf-8', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as FeishuAnswer };
    } catch {
      return { status: res.status, body: {} };
    }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    // fetch's own message names nothing secret, but its cause may carry the URL: keep the code only.
    return { error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? describeError(err)) };
  }
}

const codeText = (b: FeishuAnswer) => `code ${b.code ?? '?'}${b.msg ? ` ${b.msg}` : ''}`;

/** What the token endpoint's refusals mean (docs/feishu.md §13). */
const TOKEN_REFUSALS: Record<number, { seen: string; fix: string }> = {
  10003: { seen: 'the App ID does not exist on this domain', fix: 'copy FEISHU_APP_ID again from Credentials & Basic Info, and check FEISHU_DOMAIN (feishu or lark)' },
  10014: { seen: 'the App Secret is wrong', fix: 'copy FEISHU_APP_SECRET again (or Reset it and copy the new one) from Credentials & Basic Info; check FEISHU_DOMAIN (lark for a Lark app)' },
};

/** What the long-connection endpoint's codes mean (the SDK gives up on all but 1000040343). */
const ENDPOINT_CODES: Record<number, { seen: string; fix: string }> = {
  514: { seen: 'authentication failed', fix: CREDENTIALS_FIX },
  403: { seen: 'the app may not use a long connection', fix: 'publish a version of the app with the Bot feature and long-connection events (docs/feishu.md steps 2, 4 and 6)' },
  1000040350: { seen: 'too many long connections for this app', fix: 'stop the other programs connected with this app (an old deployment, a laptop): Feishu gives each event to one connection at random' },
  1000040351: { seen: 'the wrong domain for this app (a Lark app on feishu or a Feishu app on lark)', fix: 'set FEISHU_DOMAIN=lark for a Lark (open.larksuite.com) app, feishu for a Feishu one' },
  1000040343: { seen: 'an internal error of the open platform (the bridge retries it)', fix: 'run the doctor again in a minute' },
};
const ENDPOINT_UNKNOWN = { seen: 'the long connection is refused', fix: 'check docs/feishu.md step 4.1 (receive events through persistent connection) and the code in Feishu\'s error tables' };

/** The open platform's activate_status of the app; 2 is the only one that serves a tenant. */
const ACTIVATION: Record<number, string> = {
  0: 'not yet installed by the tenant',
  1: 'disabled by the tenant',
  3: 'installed but not yet enabled',
  4: 'waiting for an upgrade to be enabled',
  5: 'disabled: the license expired',
  6: 'disabled: the Lark plan expired or was downgraded',
};

function unreachable(id: string, config: FeishuConfig, why: string): CheckResult {
  return fail(id, `cannot reach the open platform at ${config.domain} (${why})`, `check the host's outbound HTTPS and DNS (curl -sI ${config.domain}) and FEISHU_DOMAIN in feishu.env`);
}

async function checkCredentials(config: FeishuConfig, timeoutMs: number): Promise<{ result: CheckResult; token?: string; reached: boolean }> {
  const id = 'feishu:app';
  const r = await callFeishu(`${config.domain}/open-apis/auth/v3/tenant_access_token/internal`, { method: 'POST', body: { app_id: config.appId, app_secret: config.appSecret } }, timeoutMs);
  if ('error' in r) return { result: unreachable(id, config, r.error), reached: false };
  const token = r.body.tenant_access_token;
  if (r.body.code === 0 && token) return { result: ok(id, `Feishu accepts the app ${config.appId} at ${config.domain} (tenant token issued)`), token, reached: true };
  if (r.body.code === undefined) return { result: fail(id, `${config.domain} did not answer like the open platform (HTTP ${r.status})`, 'check FEISHU_DOMAIN in feishu.env: feishu, lark, or the open platform\'s base URL'), reached: true };
  const refusal = TOKEN_REFUSALS[r.body.code];
  return { result: fail(id, `Feishu refused the app ${config.appId} (${codeText(r.body)})${refusal ? `: ${refusal.seen}` : ''}`, `${refusal?.fix ?? CREDENTIALS_FIX}, then: systemctl restart tether-feishu`), reached: true };
}

async function checkBot(config: FeishuConfig, token: string, timeoutMs: number): Promise<CheckResult> {
  const id = 'feishu:bot';
  const r = await callFeishu(`${config.domain}/open-apis/bot/v3/info`, { method: 'GET', token }, timeoutMs);
  if ('error' in r) return unreachable(id, config, r.error);
  if (r.body.code !== 0) return fail(id, `Feishu refused the bot info call (${codeText(r.body)})`, 'see docs/feishu.md §13 for the code');
  const bot = r.body.bot;
  // Without the Bot feature the app has no bot: no open id to send as, and sends answer 230006.
  if (!bot?.open_id) return fail(id, 'the app has no bot: the Bot feature is not enabled', 'on the developer console: Add Features → Bot → Add, then publish a new version (docs/feishu.md steps 2 and 6)');
  const status = bot.activate_status;
  if (status !== undefined && status !== 2) {
    return fail(id, `the bot "${bot.app_name ?? '?'}" is ${ACTIVATION[status] ?? `in activation status ${status}`}`, 'publish a version of the app and have the tenant\'s admin approve it (docs/feishu.md step 6)');
  }
  return ok(id, `the bot is enabled: "${bot.app_name ?? '?'}" (${bot.open_id})`);
}

/** The URL it answers with carries a ticket and an access key: it is read for its code only, never kept. */
async function checkEndpoint(config: FeishuConfig, timeoutMs: number): Promise<CheckResult> {
  const id = 'feishu:long-connection';
  const r = await callFeishu(`${config.domain}/callback/ws/endpoint`, { method: 'POST', body: { AppID: config.appId, AppSecret: config.appSecret } }, timeoutMs);
  if ('error' in r) return unreachable(id, config, r.error);
  if (r.body.code === 0) return ok(id, 'the long-connection endpoint accepts the app: events can come over a long connection');
  const meaning = (r.body.code !== undefined ? ENDPOINT_CODES[r.body.code] : undefined) ?? ENDPOINT_UNKNOWN;
  return fail(id, `the long-connection endpoint refuses the app (${r.body.code === undefined ? `HTTP ${r.status}` : codeText(r.body)}): ${meaning.seen}`, meaning.fix);
}

/** Feishu shows an app nothing of its own event and callback subscriptions: the line says what a missing one looks like. */
function subscriptionsNotVisible(): CheckResult {
  return warn(
    'feishu:subscriptions',
    'the event and card-callback subscriptions cannot be checked from the app: without im.message.receive_v1 messages get no answer at all; without the card.action.trigger callback a press on Approve/Deny shows the presser error 200340',
    'on the developer console, Events & Callbacks: persistent-connection mode, the event im.message.receive_v1 (2.0) and the callback card.action.trigger, then publish (docs/feishu.md step 4)',
  );
}

/** Another `tether feishu` for this app on this host, or the bridge's long connection failing, as its health file tells. */
function checkConnection(b: DeployedProcess, config: FeishuConfig): CheckResult {
  const id = 'feishu:connection';
  const holder = otherLockHolder(b.stateDir, 'feishu', config.appId);
  if (holder) return fail(id, `another tether feishu (pid ${holder}) holds this app's lock`, `stop it (kill ${holder}) and let the unit run the bridge`);
  const adapter = readBridgeHealth(b.stateDir, 'feishu')?.adapter as { state?: string; restarts?: number; lastRestartReason?: string } | undefined;
  if (adapter?.state && adapter.state !== 'connected') {
    return warn(id, `the bridge's long connection is ${adapter.state}${adapter.restarts ? ` after ${adapter.restarts} restart(s)` : ''}${adapter.lastRestartReason ? ` (${adapter.lastRestartReason})` : ''}`, 'see the feishu:long-connection line; journalctl -u tether-feishu -n 50');
  }
  return ok(id, `${adapter?.state === 'connected' ? 'the bridge holds a long connection; ' : ''}no other tether feishu for this app on this host (one on another host would not show here)`);
}

export async function checkFeishu(d: Deployment, b: DeployedProcess): Promise<CheckResult[]> {
  let config: FeishuConfig;
  try {
    config = loadFeishuConfig(b.env ?? {});
  } catch {
    return []; // env:feishu says what is wrong with the file
  }
  const timeoutMs = d.options.timeoutMs;
  const { result, token, reached } = await checkCredentials(config, timeoutMs);
  const results = [result];
  if (token) results.push(await checkBot(config, token, timeoutMs));
  // Asked even when the token was refused (its 1000040351 tells a wrong domain apart); an unreachable domain is said once.
  if (reached) results.push(await checkEndpoint(config, timeoutMs));
  results.push(subscriptionsNotVisible(), checkConnection(b, config));
  return results;
}
