// Files the file tools never touch, wherever they are: dotenv files, Tether's state dir, the runtime token. Pure.
import { basename, isAbsolute, relative, sep } from 'node:path';
import { TOKEN_FILE } from '../../lib/token.js';

/** What editors and people add to a file's name when they keep a copy of it: `~`, `#`, `.bak`, `.swp`, `.1`. */
const COPY_SUFFIX = String.raw`(?:[~#]|\.(?:bak|backup|old|orig|save|sav|swp|swo|tmp|\d+))*`;

/**
 * A dotenv file or a copy of one: every name that begins like `.env` (`.env.local`, `.envrc`,
 * `.env-old`, `.env_bak`, `.env~`, `.env.swp`), with the marks editors put before it (`#.env#`,
 * `.#.env`, `..env.swp`), and an env file by its suffix (`telegram.env`, as systemd environment
 * files are named, and copies: `telegram.env~`, `prod.env.bak`); `config.env.ts` is source, not one.
 */
const DOTENV_NAME = new RegExp(String.raw`^[.#~]*\.env|\.env${COPY_SUFFIX}$`);

/** One row per kind of protected file, matched on a path's last component, in any letter case (case-insensitive filesystems). */
const PROTECTED_NAMES: ReadonlyArray<{ matches: (lowerName: string) => boolean; what: string }> = [
  { matches: (n) => DOTENV_NAME.test(n), what: 'a .env file, which holds credentials' },
  { matches: (n) => n === TOKEN_FILE, what: "a copy of the runtime's token file" },
];

/** `path` is `dir` or below it (confine.ts has the same rule; not imported, to keep the two files free of a cycle). */
function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Whether `path` is Tether's state, compared in lower case too (`STATE/` on a case-insensitive
 * filesystem). A workspace strictly inside the state dir (the systemd layout:
 * /var/lib/tether/workspace) is the agent's own: its subtree is not state, everything else in the
 * state dir still is. A state dir inside the workspace stays protected whole.
 */
function isState(path: string, stateDir: string, workspace: string | undefined): boolean {
  if (!within(stateDir, path) && !within(stateDir.toLowerCase(), path.toLowerCase())) return false;
  const workspaceInState = workspace !== undefined && workspace !== stateDir && within(stateDir, workspace);
  return !(workspaceInState && within(workspace, path));
}

/**
 * Why file tools must not touch `path` (absolute), or undefined when they may. `stateDir` is the
 * real path of TETHER_STATE_DIR: everything in it (tokens, databases, other parts' state) is off
 * limits, but for the subtree of a `workspace` (real path) inside it. Names are compared in lower
 * case too, so `.ENV` on a case-insensitive filesystem is caught.
 */
export function protectedReason(path: string, stateDir: string | undefined, workspace?: string): string | undefined {
  if (stateDir !== undefined && isState(path, stateDir, workspace)) return "Tether's state directory (tokens, databases)";
  const name = basename(path).toLowerCase();
  return PROTECTED_NAMES.find((p) => p.matches(name))?.what;
}

/** The refusal a tool returns; `via` names the real target when a symlink led there. */
export function protectedRefusal(requested: string, what: string, via?: string): string {
  const where = via ? `leads to ${via}, ${what}` : `is ${what}`;
  return `path ${requested} ${where}; file tools never read, list or write it, so Tether's secrets stay out of the conversation`;
}

/** Whether a workspace-relative path goes into a .git directory (or is one), in any letter case. */
export function isInGitDirectory(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some((part) => part.toLowerCase() === '.git');
}
