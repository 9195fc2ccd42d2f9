// The setup wizard's questions on a terminal (or a pipe, line by line): numbered menus, defaults, and secrets that are never echoed.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { TetherError } from '../lib/errors.js';
import type { Questions } from '../deploy/setup-answers.js';

export interface TerminalQuestions extends Questions {
  close(): void;
}

export function terminalQuestions(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): TerminalQuestions {
  let muted = false;
  // readline echoes what is typed through this stream; a secret's keystrokes are dropped here.
  const echo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input, output: echo, terminal: input.isTTY === true });
  // Lines that arrived before their question (a pipe delivers them all at once) wait here.
  const lines: string[] = [];
  let waiting: { resolve: (line: string) => void; reject: (err: Error) => void; question: string } | undefined;
  let ended = false;
  rl.on('line', (line) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w.resolve(line);
    } else lines.push(line);
  });
  rl.on('close', () => {
    ended = true;
    waiting?.reject(new TetherError('no_answer', `no answer to "${waiting.question}": the input ended`, 'answer the questions, or use --non-interactive with every value given'));
    waiting = undefined;
  });

  const ask = (question: string, secret = false): Promise<string> => {
    output.write(`${question}: `);
    muted = secret;
    const done = (line: string) => {
      if (muted && input.isTTY) output.write('\n');
      muted = false;
      return line.trim();
    };
    const queued = lines.shift();
    if (queued !== undefined) return Promise.resolve(done(queued));
    if (ended) return Promise.reject(new TetherError('no_answer', `no answer to "${question}": the input ended`, 'answer the questions, or use --non-interactive with every value given'));
    return new Promise<string>((resolve, reject) => (waiting = { resolve: (l) => resolve(done(l)), reject, question }));
  };

  const pick = (answer: string, choices: ReadonlyArray<{ value: string }>): string | undefined => {
    const n = Number(answer);
    if (Number.isInteger(n) && n >= 1 && n <= choices.length) return choices[n - 1]!.value;
    return choices.find((c) => c.value === answer.toLowerCase())?.value;
  };
  const menu = (question: string, choices: ReadonlyArray<{ value: string; label: string }>) => {
    output.write(`${question}\n${choices.map((c, i) => `  ${i + 1}) ${c.value}${c.label !== c.value ? ` — ${c.label}` : ''}`).join('\n')}\n`);
  };

  return {
    async choose(question, choices) {
      menu(question, choices);
      for (;;) {
        const chosen = pick(await ask('Number or name'), choices);
        if (chosen) return chosen;
        output.write(`  one of 1-${choices.length}, please\n`);
      }
    },
    async chooseSome(question, choices) {
      menu(question, choices);
      for (;;) {
        const parts = (await ask('Numbers or names, comma-separated')).split(',').map((s) => s.trim()).filter(Boolean);
        const chosen = parts.map((p) => pick(p, choices));
        if (chosen.length > 0 && chosen.every((c) => c !== undefined)) return chosen as string[];
        output.write(`  one or more of 1-${choices.length}, please\n`);
      }
    },
    async text(question, options = {}) {
      for (;;) {
        const answer = await ask(options.fallback ? `${question} [${options.fallback}]` : question);
        if (answer) return answer;
        if (options.fallback !== undefined) return options.fallback;
        if (options.optional) return '';
        output.write('  an answer is needed\n');
      }
    },
    async secret(question) {
      for (;;) {
        const answer = await ask(question, true);
        if (answer) return answer;
        output.write('  an answer is needed\n');
      }
    },
    async confirm(question) {
      return /^y(es)?$/i.test(await ask(`${question} [y/N]`));
    },
    close() {
      rl.close();
    },
  };
}
