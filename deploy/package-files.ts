// Where this package's own files are (templates, units, the app a bundle carries), from source and from dist/ alike.
import { fileURLToPath } from 'node:url';

/** The package root: deploy/ sits one level down in source, two in dist/deploy/. */
export function packageRoot(): string {
  return fileURLToPath(new URL(import.meta.url.includes('/dist/deploy/') ? '../../' : '../', import.meta.url));
}

export function templatesDir(): string {
  return `${packageRoot()}deploy/templates/`;
}

export function unitsDir(): string {
  return `${packageRoot()}systemd/`;
}

/**
 * What a host needs to run Tether, copied into a bundle's app/: the compiled CLI (its compiler is a
 * dev dependency, so the host does not build), the lockfile for `npm ci --omit=dev`, units, the
 * templates (so `tether setup` works there too) and docs.
 */
export const APP_PATHS = ['package.json', 'package-lock.json', 'bin', 'dist', 'systemd', 'deploy/templates', 'docs', 'README.md', '.env.example'] as const;
