// `tether pair`: mint codes, list, approve and revoke who may talk, on the bridge's database (safe while it runs).
import { existsSync } from 'node:fs';
import { isPlatformName, PLATFORM_NAMES, type PlatformName } from '../bridges/core/adapter.js';
import { decideAccessRequest, findOpenRequest, mintPairCode } from '../bridges/core/enrolment.js';
import { bridgeDbFile, BridgeStore } from '../bridges/core/store.js';
import { loadCommonConfig, readEnvironment } from '../lib/config.js';
import { TetherError } from '../lib/errors.js';
import { ensureStateDir } from '../lib/token.js';
import { commandArgs, wantsHelp } from './args.js';

const PLATFORMS = PLATFORM_NAMES.join('|');

const HELP: Record<string, string> = {
  '': `Usage: tether pair <code|list|approve|revoke> …

  tether pair code <platform>             mint a one-time code; send it to the bot as /pair CODE
  tether pair list [platform]             who may talk, open requests and codes
  tether pair approve <platform> <CODE>   accept the request code a stranger's chat was given
  tether pair revoke <platform> <ID>      remove a paired user or chat id

platform: ${PLATFORMS}. Works on $TETHER_STATE_DIR/<platform>.db, also while the bridge runs.
See docs/pairing.md.
`,
  code: `Usage: tether pair code <platform>

Mints a one-time pairing code (8 characters, valid for one hour, works once) and prints it.
Whoever sends it to the bot as "/pair CODE" in a private chat becomes an owner: they may talk to
the agent, approve access requests from chat, and pair groups by sending /pair there.
`,
  list: `Usage: tether pair list [platform]

Prints the paired users and chats of each bridge (or of one), with their role, who added them
and when, plus the open access requests and the number of unused codes. Ids in the platform's
allowlist variable (TELEGRAM_ALLOWLIST, …) are always allowed and are not listed here.
`,
  approve: `Usage: tether pair approve <platform> <CODE>

Accepts an access request: an unknown private chat that wrote to the bot was answered with its
id and a request code. The requester becomes a user (not an owner) and is told in chat.
`,
  revoke: `Usage: tether pair revoke <platform> <ID>

Removes a paired user id or chat id (see tether pair list). Their next message is treated like
a stranger's, and what they sent that is still waiting (queued while the runtime was down) is
dropped, not run. A press on an earlier approval button in a revoked group decides nothing.
Ids in the allowlist variable cannot be revoked here: edit the variable instead.
`,
};

class UsageError extends TetherError {
  constructor(problem: string, sub: string) {
    super('bad_usage', problem, `run tether pair ${sub ? `${sub} ` : ''}--help`);
  }
}

function platformArg(value: string | undefined, sub: string): PlatformName {
  if (value === undefined) throw new UsageError(`which platform? expected one of ${PLATFORMS}`, sub);
  if (!isPlatformName(value)) throw new UsageError(`unknown platform ${JSON.stringify(value)}, expected one of ${PLATFORMS}`, sub);
  return value;
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function print(line: string): void {
  process.stdout.write(line + '\n');
}

function withStore<T>(stateDir: string, platform: PlatformName, create: boolean, fn: (s: BridgeStore) => T): T {
  if (!create && !existsSync(bridgeDbFile(stateDir, platform))) {
    throw new TetherError('no_bridge_state', `no ${platform} bridge state in ${stateDir}`, `run tether ${platform} once, or check TETHER_STATE_DIR`);
  }
  ensureStateDir(stateDir);
  const store = BridgeStore.open(stateDir, platform);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function listOne(store: BridgeStore, platform: PlatformName, now: number): void {
  const allowed = store.listAllowed();
  const open = store.openCodes(now);
  const requests = open.filter((c) => c.purpose === 'request');
  print(`${platform}:`);
  if (allowed.length === 0) print('  nobody paired yet');
  for (const a of allowed) print(`  ${a.kind.padEnd(4)} ${a.id.padEnd(20)} ${a.role.padEnd(5)} added ${when(a.addedAt)} by ${a.addedBy}`);
  for (const r of requests) print(`  request from ${r.requesterName ? `${r.requesterName} ` : ''}(id ${r.requesterId}) — open until ${when(r.expiresAt)}; approve with the code they were given`);
  const codes = open.length - requests.length;
  if (codes > 0) print(`  ${codes} unused pairing code${codes === 1 ? '' : 's'} (expire within the hour)`);
}

export async function run(args: string[]): Promise<number> {
  const [sub = '', ...rest] = args;
  if (sub === '' || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(HELP['']!);
    return sub === '' ? 2 : 0;
  }
  const help = HELP[sub];
  if (help === undefined) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`, '');
  // code and list take a platform; approve and revoke a platform and a code or id.
  const parsed = commandArgs(rest, `pair ${sub}`, {}, sub === 'approve' || sub === 'revoke' ? 2 : 1);
  if (wantsHelp(parsed, help)) return 0;
  const { stateDir } = loadCommonConfig(readEnvironment());
  const [first, second] = parsed.positionals;
  const now = Date.now();
  switch (sub) {
    case 'code': {
      const platform = platformArg(first, sub);
      const { code, expiresAt } = withStore(stateDir, platform, true, (s) => mintPairCode(s, now));
      print(`Pairing code for ${platform}: ${code}`);
      print(`Send it to your bot in a private chat as:  /pair ${code}`);
      print(`It works once and expires at ${when(expiresAt)} (in one hour). Whoever uses it becomes an owner.`);
      return 0;
    }
    case 'list': {
      const platforms = first === undefined ? PLATFORM_NAMES.filter((p) => existsSync(bridgeDbFile(stateDir, p))) : [platformArg(first, sub)];
      if (platforms.length === 0) {
        print(`No bridge state in ${stateDir} yet: start a bridge (tether telegram) or mint a code (tether pair code telegram).`);
        return 0;
      }
      for (const p of platforms) withStore(stateDir, p, false, (s) => listOne(s, p, now));
      return 0;
    }
    case 'approve': {
      const platform = platformArg(first, sub);
      if (second === undefined) throw new UsageError('which request? give the code the requester was shown', sub);
      const result = withStore(stateDir, platform, false, (s) => {
        const request = findOpenRequest(s, second, now);
        if (!request) return undefined;
        return decideAccessRequest(s, request, 'approve', 'tether pair approve', now) ? request : undefined;
      });
      if (!result) throw new TetherError('no_such_request', `no open ${platform} request has the code ${JSON.stringify(second)}`, 'request codes work once and expire after an hour; ask them to write to the bot again for a new one');
      print(`Approved ${platform} user ${result.requesterName ? `${result.requesterName} ` : ''}(id ${result.requesterId}); they are told in chat as soon as the bridge runs.`);
      return 0;
    }
    case 'revoke': {
      const platform = platformArg(first, sub);
      if (second === undefined) throw new UsageError('which id? see tether pair list', sub);
      const removed = withStore(stateDir, platform, false, (s) => s.revoke(second));
      if (removed === 0) throw new TetherError('not_paired', `${second} is not a paired ${platform} id`, `see tether pair list ${platform}; allowlisted ids are removed from the allowlist variable`);
      print(`Revoked ${platform} id ${second}: their next message is treated like a stranger's, and nothing of theirs still waiting runs.`);
      return 0;
    }
  }
  return 2;
}
