// The deploy targets table: one row per place Tether can be deployed to; a new cloud is a row plus its RUNBOOK template (and a plan, if it can be provisioned).

export interface TargetSpec {
  /** For people: the wizard's menu, RUNBOOK's title. */
  name: string;
  /** The bundle carries cloud-init.yaml: the target takes user data when a machine is made. */
  cloudInit: boolean;
  /** deploy/templates file with RUNBOOK.md's first steps: getting a machine and the bundle onto it. */
  runbookSteps: string;
  /** `--apply` provisions the machine from a plan (deploy/azure-plan.ts); otherwise a person follows RUNBOOK.md. */
  provisions: boolean;
}

export const TARGETS = {
  vps: { name: 'any Debian or Ubuntu host you reach over SSH', cloudInit: false, runbookSteps: 'runbook-vps.md', provisions: false },
  azure: { name: 'Microsoft Azure: a VM made with the az command', cloudInit: true, runbookSteps: 'runbook-azure.md', provisions: true },
  lighthouse: { name: 'Tencent Cloud Lighthouse: an instance made in its console', cloudInit: false, runbookSteps: 'runbook-lighthouse.md', provisions: false },
} as const satisfies Record<string, TargetSpec>;

export type TargetName = keyof typeof TARGETS;

export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];

export function isTargetName(name: string): name is TargetName {
  return Object.hasOwn(TARGETS, name);
}
