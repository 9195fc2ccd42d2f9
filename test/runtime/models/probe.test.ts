// Probing a provider through GET /models: reachable, key accepted, model listed — or why not.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../../lib/config.js';
import { modelIdsOf, probeProvider } from '../../../runtime/models/probe.js';
import { startFakeModel, type FakeModel } from '../../fakes/model-server.js';

const KEY = 'sk-probe-key-abcdefghijklmnop';
const fakes: FakeModel[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function fake(options: Parameters<typeof startFakeModel>[0]): Promise<FakeModel> {
  const f = await startFakeModel(options);
  fakes.push(f);
  return f;
}

const config = (url: string, env: Record<string, string> = {}) => loadRuntimeConfig({ TETHER_PROVIDER: 'openai', TETHER_BASE_URL: url, TETHER_MODEL: 'chat-1', ...env });

describe('probeProvider', () => {
  it('is ok when the key is accepted and the model is listed', async () => {
    const f = await fake({ apiKey: KEY, models: ['chat-1', 'chat-2'] });
    const probe = await probeProvider(config(f.url, { OPENAI_API_KEY: KEY }));
    expect(probe).toMatchObject({ ok: true, models: ['chat-1', 'chat-2'], modelListed: true });
    expect(probe.error).toBeUndefined();
  });

  it('names the key variable when the key is refused, without showing it', async () => {
    const f = await fake({ apiKey: KEY });
    const probe = await probeProvider(config(f.url, { OPENAI_API_KEY: 'sk-wrong-key-zzzzzzzzzzzz' }));
    expect(probe.ok).toBe(false);
    expect(probe.error?.code).toBe('provider_unauthorized');
    expect(probe.error?.message).toContain('OPENAI_API_KEY');
    expect(probe.error?.message).not.toContain('sk-wrong');
  });

  it('says which models exist when TETHER_MODEL is not among them', async () => {
    const f = await fake({ models: ['llama3', 'qwen2.5:7b'] });
    const probe = await probeProvider(config(f.url));
    expect(probe).toMatchObject({ ok: false, modelListed: false });
    expect(probe.error?.code).toBe('provider_not_found');
    expect(probe.error?.message).toContain('llama3, qwen2.5:7b');
    expect(probe.error?.message).toContain('TETHER_MODEL');
  });

  it('reports a server that is not running', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    await new Promise<void>((r) => server.close(() => r()));
    const probe = await probeProvider(config(url));
    expect(probe.error?.code).toBe('provider_unavailable');
    expect(probe.error?.message).toContain(url);
  });

  it('times out on a server that never answers', async () => {
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const probe = await probeProvider(config(url), { timeoutMs: 200 });
      expect(probe.error?.code).toBe('provider_timeout');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it.each([
    [{ data: [{ id: 'a' }, { id: 'b' }] }, ['a', 'b']],
    [{ models: [{ name: 'qwen2.5:7b' }] }, ['qwen2.5:7b']],
    [{ data: 'nope' }, []],
    [null, []],
  ])('reads model ids from %j', (body, ids) => {
    expect(modelIdsOf(body)).toEqual(ids);
  });
});
