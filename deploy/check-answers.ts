// Validates the env files of a bundle before they are written, with the loaders the processes themselves run at start.
import { loadRuntimeConfig } from '../lib/config.js';
import { bridgeEnvEntries, runtimeEnvEntries, type SetupAnswers } from './bundle.js';
import { BRIDGE_LOADERS } from './bridge-loaders.js';

/** Throws the ConfigError a process would stop with (its message masks secrets). */
export function checkAnswers(answers: SetupAnswers, cwd: string): void {
  // The host's workspace is made by systemd (StateDirectory=); here any existing directory stands in for it.
  loadRuntimeConfig({ ...Object.fromEntries(runtimeEnvEntries(answers)), TETHER_WORKSPACE: cwd }, cwd);
  for (const b of answers.bridges) BRIDGE_LOADERS[b](Object.fromEntries(bridgeEnvEntries(answers, b)));
}
