/**
 * The mover template: split into words first, then filled in, so a value with
 * spaces, quotes or shell syntax stays one argument and is never run as code.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moverArgv, runMover, splitTemplate } from '../../tools/rebalance/mover.js';

describe('mover template', () => {
  it('splits on whitespace with single and double quotes, then substitutes inside words', () => {
    const words = splitTemplate(`/usr/local/bin/xfer  --user={user} "{from} to {to}" '/var/x y' ''`);
    expect(words).toEqual(['/usr/local/bin/xfer', '--user={user}', '{from} to {to}', '/var/x y', '']);
    expect(moverArgv(words, { user: 'alice', from: 's1', to: 's2' })).toEqual([
      '/usr/local/bin/xfer', '--user=alice', 's1 to s2', '/var/x y', '',
    ]);
  });

  it('refuses an unclosed quote and an empty template', () => {
    expect(() => splitTemplate(`mover '{user}`)).toThrow(/unclosed ' quote/);
    expect(() => splitTemplate('   ')).toThrow(/empty/);
  });

  it('passes a hostile value as one argument: nothing is executed', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mbdir-mover-'));
    try {
      const marker = join(directory, 'pwned');
      const hostile = `x; touch ${marker} $(touch ${marker}) \`touch ${marker}\``;
      const words = splitTemplate(`sh -c 'test "$1" = "$2"' _ {user} "x; touch ${marker} $(touch ${marker}) \`touch ${marker}\`"`);
      const result = await runMover(words, { user: hostile, from: 'a', to: 'b' }, 10_000, new AbortController().signal);
      expect(result).toEqual({ ok: true });
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reports a mover that cannot start', async () => {
    const result = await runMover(['/nonexistent/mover'], { user: 'u', from: 'a', to: 'b' }, 10_000, new AbortController().signal);
    expect(result).toEqual({ ok: false, reason: 'mover did not start: spawn /nonexistent/mover ENOENT' });
  });
});
