// Files the file tools never touch: .env files, the state dir and the token file, however they are reached; and hard-linked files are not read.
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModel } from '../../fakes/model-server.js';
import { startRuntimeProcess } from '../../support/cli.js';
import { apiRequest } from '../../support/runtime.js';
import { openEventStream } from '../../support/sse.js';
import { listDirTool } from '../../../runtime/tools/list-dir.js';
import { protectedReason } from '../../../runtime/tools/protected-paths.js';
import { readFileTool } from '../../../runtime/tools/read-file.js';
import { writeFileTool } from '../../../runtime/tools/write-file.js';
import { contextFor, makeWorkspace, type TempWorkspace } from './workspace.js';

let t: TempWorkspace;
let stateDir: string;
beforeEach(() => {
  t = makeWorkspace();
  // The README's set-up can put the state dir anywhere; inside the workspace is the case confinement alone misses.
  stateDir = join(t.workspace, 'state');
  mkdirSync(stateDir);
  writeFileSync(join(stateDir, 'runtime.token'), 'tok-0123456789abcdef\n');
  writeFileSync(join(stateDir, 'runtime.db'), 'rows\n');
  writeFileSync(join(t.workspace, '.env'), 'TELEGRAM_BOT_TOKEN=123456:secret\n');
  writeFileSync(join(t.workspace, '.env.local'), 'DEEPSEEK_API_KEY=sk-secret\n');
  mkdirSync(join(t.workspace, 'app'));
  writeFileSync(join(t.workspace, 'app', '.Env'), 'OPENAI_API_KEY=sk-other\n');
  symlinkSync('../.env', join(t.workspace, 'app', 'settings.txt'));
  symlinkSync('state', join(t.workspace, 'state-alias'));
});
afterEach(() => t.remove());

const ctx = () => contextFor(t.workspace, { stateDir });

describe('protected files', () => {
  it.each([
    ['.env', /path \.env is a \.env file, which holds credentials; file tools never read, list or write it/],
    ['.env.local', /is a \.env file/],
    ['app/.Env', /is a \.env file/],
    ['./app/../.env', /is a \.env file/],
    ['app/settings.txt', /path app\/settings\.txt leads to \.env, a \.env file/],
    ['state/runtime.token', /path state\/runtime\.token is Tether's state directory/],
    ['state-alias/runtime.db', /leads to state\/runtime\.db, Tether's state directory/],
  ])('read_file refuses %s with a clear tool error', async (path, reason) => {
    const outcome = await readFileTool.run({ path }, ctx());
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(reason);
    expect(outcome.content).not.toMatch(/123456:secret|sk-secret|sk-other|tok-0123/);
  });

  it.each(['.env~', '#.env#', '.#.env', '.env-old', '.env_bak', '.envrc', '.env.swp', '..env.swp', '.env.bak', '.env ', '.env\u200B', 'telegram.env', 'runtime.env~', 'prod.env.bak'])(
    'read_file refuses %s, an editor copy or a variant of a .env file',
    async (name) => {
      writeFileSync(join(t.workspace, name), 'TELEGRAM_BOT_TOKEN=123456:secret\n');
      const outcome = await readFileTool.run({ path: name }, ctx());
      expect(outcome).toMatchObject({ ok: false, content: expect.stringMatching(/is a \.env file, which holds credentials/) });
      expect(outcome.content).not.toContain('123456:secret');
    },
  );

  it('read_file refuses the state dir by its absolute path, and a file named like the token file anywhere', async () => {
    writeFileSync(join(t.workspace, 'app', 'runtime.token'), 'copied\n');
    expect((await readFileTool.run({ path: join(stateDir, 'runtime.token') }, ctx())).content).toMatch(/Tether's state directory/);
    expect((await readFileTool.run({ path: 'app/runtime.token' }, ctx())).content).toMatch(/the runtime's token file/);
  });

  it.each(['state', 'state-alias', 'state/'])('list_dir refuses %s', async (path) => {
    const outcome = await listDirTool.run({ path }, ctx());
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(/Tether's state directory/);
  });

  it('list_dir still shows that a .env exists, never what it holds', async () => {
    const outcome = await listDirTool.run({}, ctx());
    expect(outcome.content).toMatch(/^\.env {2}file, \d+ B$/m);
    expect(outcome.content).not.toMatch(/secret/);
  });

  it.each([
    ['.env', /is a \.env file/],
    ['.env.production', /is a \.env file/],
    ['app/settings.txt', /leads to \.env/],
    ['state/runtime.token', /Tether's state directory/],
    ['state/new-file', /Tether's state directory/],
  ])('write_file refuses %s, even when approved', async (path, reason) => {
    const outcome = await writeFileTool.run({ path, content: 'TETHER_APPROVAL=auto\n' }, ctx(), { approved: true });
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(reason);
  });

  it('read_file refuses a regular file with a second hard link, which may be a file from outside under another name', async () => {
    writeFileSync(join(t.outside, 'id_rsa'), 'PRIVATE KEY\n');
    linkSync(join(t.outside, 'id_rsa'), join(t.workspace, 'innocent.txt'));
    const outcome = await readFileTool.run({ path: 'innocent.txt' }, ctx());
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(/^innocent\.txt has 2 hard links, so it may be a file from outside the workspace/);
    expect(outcome.content).not.toContain('PRIVATE KEY');
  });

  it('names what is protected in a pure table, in any letter case', () => {
    expect(protectedReason('/ws/.ENV', undefined)).toMatch(/\.env file/);
    expect(protectedReason('/ws/.env.example', undefined)).toMatch(/\.env file/);
    expect(protectedReason('/ws/.ENVRC', undefined)).toMatch(/\.env file/);
    for (const name of ['env', 'ENV', 'env.bak', 'environment.ts', 'config.env.ts', 'dotenv.md', '.venv', 'my-env']) expect(protectedReason(`/ws/${name}`, undefined), name).toBeUndefined();
    expect(protectedReason('/srv/STATE/runtime.db', '/srv/state')).toMatch(/state directory/);
    expect(protectedReason('/srv/state-other/x', '/srv/state')).toBeUndefined();
  });
});

describe('a workspace inside the state dir (the systemd layout)', () => {
  // TETHER_STATE_DIR=/var/lib/tether, TETHER_WORKSPACE=/var/lib/tether/workspace, as in systemd/tether-runtime.service.
  let layout: TempWorkspace;
  let state: string;
  let workspace: string;
  beforeEach(() => {
    layout = makeWorkspace();
    state = join(layout.root, 'var-lib-tether');
    workspace = join(state, 'workspace');
    mkdirSync(workspace, { recursive: true });
    writeFileSync(join(workspace, 'README.md'), 'hello\n');
  });
  afterEach(() => layout.remove());
  const inLayout = () => contextFor(workspace, { stateDir: state });

  it('lets every file tool work in the workspace', async () => {
    expect(await readFileTool.run({ path: 'README.md' }, inLayout())).toMatchObject({ ok: true, content: 'hello\n' });
    expect(await listDirTool.run({}, inLayout())).toMatchObject({ ok: true, content: expect.stringMatching(/^README\.md {2}file, 6 B$/m) });
    const args = { path: 'notes/todo.md', content: 'x\n' };
    const plan = await writeFileTool.plan!(args, inLayout());
    expect(await writeFileTool.run(args, inLayout(), { plan, approved: true })).toMatchObject({ ok: true, summary: 'created notes/todo.md (1 line, 2 B)' });
    expect(readFileSync(join(workspace, 'notes', 'todo.md'), 'utf8')).toBe('x\n');
  });

  it("still refuses the state dir's own files, by absolute path and through a symlink in the workspace", async () => {
    writeFileSync(join(state, 'runtime.db'), 'rows\n');
    writeFileSync(join(state, 'telegram.db'), 'pairing codes\n');
    symlinkSync('../telegram.db', join(workspace, 'db-link'));
    expect((await readFileTool.run({ path: join(state, 'runtime.db') }, inLayout())).content).toMatch(/is Tether's state directory/);
    expect((await readFileTool.run({ path: 'db-link' }, inLayout())).content).toMatch(/leads to .*telegram\.db, Tether's state directory/);
    expect((await listDirTool.run({ path: state }, inLayout())).content).toMatch(/Tether's state directory/);
    expect(protectedReason(join(state, 'workspace-other', 'x'), state, workspace)).toMatch(/state directory/);
    expect(protectedReason(join(workspace, 'x'), state, workspace)).toBeUndefined();
    // A state dir that is the workspace itself, or inside it, stays protected whole.
    expect(protectedReason(join(state, 'x'), state, state)).toMatch(/state directory/);
    expect(protectedReason(join(workspace, 'state', 'x'), join(workspace, 'state'), workspace)).toMatch(/state directory/);
  });

  it('a real runtime started that way reads and lists its workspace', async () => {
    const cleanups: Array<() => void | Promise<void>> = [];
    try {
      const model = await startFakeModel();
      cleanups.push(() => model.close());
      const env = { HOME: layout.root, TETHER_STATE_DIR: state, TETHER_WORKSPACE: workspace, TETHER_PORT: '0', TETHER_PROVIDER: 'vllm', TETHER_MODEL: 'fake', TETHER_BASE_URL: model.url };
      const { url } = await startRuntimeProcess(env, workspace, (fn) => cleanups.push(fn));
      const token = readFileSync(join(state, 'runtime.token'), 'utf8').trim();
      const stream = await openEventStream(`${url}/v1/events?after=0`, { authorization: `Bearer ${token}` });
      cleanups.push(() => stream.close());
      const thread = (await apiRequest(url, token, 'POST', '/v1/threads', {})).body;
      for (const input of ['!tool read_file {"path":"README.md"}', '!tool list_dir {}']) {
        const turn = (await apiRequest(url, token, 'POST', `/v1/threads/${thread.id}/turns`, { input })).body;
        await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === turn.id);
        expect(stream.events.find((e) => e.event === 'tool.finished' && e.data.turn_id === turn.id)!.data.ok).toBe(true);
      }
    } finally {
      while (cleanups.length) await cleanups.pop()!();
    }
  });
});
