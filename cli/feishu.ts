// `tether feishu`: the Feishu/Lark bridge is the next adapter on bridges/core; this release says so plainly.
export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: tether feishu\n\nRuns the Feishu/Lark bridge (FEISHU_APP_ID, FEISHU_APP_SECRET).\nNot in this release yet: use tether telegram meanwhile.\n');
    return 0;
  }
  process.stderr.write('tether feishu: the Feishu/Lark bridge is not in this release yet; use tether telegram meanwhile\n');
  return 1;
}
