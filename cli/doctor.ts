// `tether doctor`: checks come with the deploy module; this release says so plainly.
export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: tether doctor\n\nChecks a deployment and says what is wrong and how to fix it.\nNot in this release yet.\n');
    return 0;
  }
  process.stderr.write('tether doctor: the deployment doctor is not in this release yet; curl http://127.0.0.1:7878/health checks the runtime\n');
  return 1;
}
