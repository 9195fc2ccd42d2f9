// Reads systemd unit files into sections of key/value lines, for tests that run a unit's ExecStart and for doctor's unit checks.

export type UnitFile = Readonly<Record<string, ReadonlyArray<readonly [key: string, value: string]>>>;

/** Sections in order of appearance; keys keep every occurrence (Environment= and SystemCallFilter= repeat). */
export function parseUnit(text: string): UnitFile {
  const sections: Record<string, Array<[string, string]>> = {};
  let current: Array<[string, string]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]!] ??= [];
      continue;
    }
    const eq = line.indexOf('=');
    if (current && eq > 0) current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return sections;
}

export function unitValues(unit: UnitFile, section: string, key: string): string[] {
  return (unit[section] ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** `Environment=A=1 B=2` lines as one object (unquoted values only, as Tether's units write them). */
export function unitEnvironment(unit: UnitFile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitValues(unit, 'Service', 'Environment')) {
    for (const pair of line.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}
