// deploy/Dockerfile and deploy/compose.yaml: non-root, multi-stage with npm ci --omit=dev, one service per process, no published port; `docker compose config` where a compose is installed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BRIDGE_SLUGS } from '../../lib/bridges.js';
import { packageRoot } from '../../deploy/package-files.js';

const dockerfile = readFileSync(join(packageRoot(), 'deploy', 'Dockerfile'), 'utf8');
const compose = readFileSync(join(packageRoot(), 'deploy', 'compose.yaml'), 'utf8');

/** `docker compose` (v2) or `docker-compose` (v1), whichever answers; undefined when neither does. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0) return ['docker-compose'];
  return undefined;
}
const composeCli = composeCommand();

const dir = mkdtempSync(join(tmpdir(), 'tether-compose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The text of one service's block in compose.yaml (two-space indented key to the next one). */
function service(name: string): string {
  const m = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\n)*)`, 'm').exec(compose);
  if (!m) throw new Error(`no service ${name} in compose.yaml`);
  return m[1]!;
}

describe('deploy/Dockerfile', () => {
  it('builds in stages, installs production dependencies with npm ci --omit=dev, runs as a non-root user with a healthcheck', () => {
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev /m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/^VOLUME \/var\/lib\/tether$/m);
    expect(dockerfile).not.toMatch(/^EXPOSE/m);
    // The last stage takes only the compiled CLI and the production node_modules.
    const last = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(last).toContain('COPY --from=deps /app/node_modules ./node_modules');
    expect(last).toContain('COPY --from=build /src/dist ./dist');
  });
});

describe('deploy/compose.yaml', () => {
  it('publishes no port: the runtime stays on loopback, each bridge shares its network namespace', () => {
    expect(compose).not.toMatch(/^\s*(ports|expose):/m);
    for (const slug of BRIDGE_SLUGS) expect(service(slug)).toContain('network_mode: service:runtime');
  });

  it.each(BRIDGE_SLUGS)('has a service for the %s bridge: its profile, its command, its env file, read-only, a healthcheck on its health file', (slug) => {
    const s = service(slug);
    expect(s).toContain(`profiles: [${slug}]`);
    expect(s).toContain(`command: [${slug}]`);
    expect(s).toContain(`env_file: [env/${slug}.env]`);
    expect(s).toContain('read_only: true');
    expect(s).toContain(`/var/lib/tether/${slug}.health.json`);
  });

  it('keeps state on a named volume', () => {
    expect(compose).toMatch(/^volumes:\n {2}state:/m);
    expect(compose).toContain('- state:/var/lib/tether');
  });

  it.skipIf(!composeCli)('passes docker compose config with every profile (skipped where no docker compose is installed; the suite never needs docker)', () => {
    mkdirSync(join(dir, 'deploy', 'env'), { recursive: true });
    copyFileSync(join(packageRoot(), 'deploy', 'compose.yaml'), join(dir, 'deploy', 'compose.yaml'));
    for (const f of ['runtime', ...BRIDGE_SLUGS]) writeFileSync(join(dir, 'deploy', 'env', `${f}.env`), 'TETHER_LOG_LEVEL=info\n', { mode: 0o600 });
    const [program, ...pre] = composeCli!;
    const profiles = BRIDGE_SLUGS.flatMap((b) => ['--profile', b]);
    const r = spawnSync(program!, [...pre, ...profiles, 'config', '--services'], { cwd: join(dir, 'deploy'), encoding: 'utf8' });
    expect(r.stderr.replace(/^.*(obsolete|WARN).*$/gm, '').trim()).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['runtime', ...BRIDGE_SLUGS].sort());
  });
});
