/**
 * Runs the operator's mover command for one user. The template is split into
 * words first (whitespace, with '...' and "..." quoting and no other shell
 * syntax), then `{user}`, `{from}` and `{to}` are substituted inside each word,
 * so a value can never become a second argument or shell code. The mover runs
 * in its own process group, which is killed whole when it outlives its timeout.
 * It never throws for a failing mover: it answers an outcome with a reason.
 */
import { spawn } from 'node:child_process';
import { limits } from '../../src/model/limits.js';

/** Grace between SIGTERM and SIGKILL of a mover that timed out or was aborted. */
export const moverKillGraceMs = 2000;

export interface MoveTarget {
  user: string;
  from: string;
  to: string;
}

export type MoverResult = { ok: true } | { ok: false; reason: string };

/** Splits a mover template into words; throws on an unclosed quote or an empty template. */
export function splitTemplate(template: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (const character of template) {
    if (quote !== null) {
      if (character === quote) quote = null;
      else word += character;
      continue;
    }
    if (character === "'" || character === '"') {
      quote = character;
      inWord = true;
    } else if (/\s/.test(character)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += character;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`--mover has an unclosed ${quote} quote`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new Error('--mover is empty');
  return words;
}

/** The argv for one move: each placeholder replaced inside its word, never re-split. */
export function moverArgv(words: readonly string[], target: MoveTarget): string[] {
  const values: Record<string, string> = { '{user}': target.user, '{from}': target.from, '{to}': target.to };
  return words.map((word) => word.replace(/\{user\}|\{from\}|\{to\}/g, (placeholder) => values[placeholder] ?? placeholder));
}

/** Keeps the last `limits.moverOutputBytesMax` bytes of a stream's output. */
class OutputTail {
  private text = '';
  add(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-limits.moverOutputBytesMax);
  }
  lastLine(): string {
    const lines = this.text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    return lines.at(-1) ?? '';
  }
}

/** Kills a process group: SIGTERM, then SIGKILL after the grace period if it is still there. */
function killGroup(pid: number, exited: () => boolean): void {
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-pid, name);
    } catch {
      // The group is already gone.
    }
  };
  signal('SIGTERM');
  setTimeout(() => {
    if (!exited()) signal('SIGKILL');
  }, moverKillGraceMs).unref();
}

/** Runs the mover for one user; resolves when it exits, times out, or `signal` aborts it. */
export function runMover(words: readonly string[], target: MoveTarget, timeoutMs: number, signal: AbortSignal): Promise<MoverResult> {
  const argv = moverArgv(words, target);
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = new OutputTail();
    child.stdout.on('data', (chunk: Buffer) => output.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.add(chunk));
    let why: string | null = null;
    let exited = false;
    const stop = (reason: string): void => {
      if (why !== null || exited || child.pid === undefined) return;
      why = reason;
      killGroup(child.pid, () => exited);
    };
    const timer = setTimeout(() => stop(`mover timed out after ${timeoutMs} ms`), timeoutMs);
    const onAbort = (): void => stop('aborted');
    signal.addEventListener('abort', onAbort);
    const finish = (result: MoverResult): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    child.once('error', (error) => {
      exited = true;
      finish({ ok: false, reason: `mover did not start: ${error.message}` });
    });
    child.once('close', (code, killedBy) => {
      exited = true;
      if (why !== null) finish({ ok: false, reason: why });
      else if (code === 0) finish({ ok: true });
      else {
        const status = code === null ? `was killed by ${String(killedBy)}` : `exited with code ${code}`;
        const detail = output.lastLine();
        finish({ ok: false, reason: `mover ${status}${detail === '' ? '' : `: ${detail}`}` });
      }
    });
    if (signal.aborted) onAbort();
  });
}
