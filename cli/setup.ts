// `tether setup`: writing deploy bundles comes with the deploy module; this release says so plainly.
export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: tether setup\n\nWrites a deploy bundle: env files, systemd units, cloud-init, RUNBOOK.\nNot in this release yet.\n');
    return 0;
  }
  process.stderr.write('tether setup: deploy bundles are not in this release yet; see systemd/ and docs/ for running by hand\n');
  return 1;
}
