// `mbdir bench --help` shows what an operator runs and none of the processes the
// bench spawns for itself (which must still be there for it to spawn), and
// `bench run --ops` takes exactly the names of the one table of operations,
// each with the callers it says, `OP@N` overriding them within bounds.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addBenchCommands } from '../../tools/bench/command.js';
import type { LoadSettings } from '../../tools/bench/load.js';
import { defaultOperations, operationNames, operationTable } from '../../tools/bench/operations.js';
import { operationCallersMax, parseOperation } from '../../tools/bench/run.js';

const internal = ['echo', 'http-echo', 'socketmap-echo', 'watch-subscribers', 'heavy-callers'];

function benchCommand(): Command {
  const program = new Command('mbdir').option('--endpoint <host:port>').option('--json');
  addBenchCommands(program);
  const bench = program.commands.find((command) => command.name() === 'bench');
  if (bench === undefined) throw new Error('no bench command');
  return bench;
}

const settings = { concurrency: 32, watchSubscribers: 500 } as LoadSettings;

describe('mbdir bench command line', () => {
  it('hides the internal subcommands from --help but keeps them runnable', () => {
    const bench = benchCommand();
    const help = bench.helpInformation();
    for (const name of ['generate', 'run', 'mixed', 'mupdate', 'cyrus-dump']) expect(help).toMatch(new RegExp(`^  ${name} `, 'm'));
    for (const name of internal) {
      expect(help, name).not.toMatch(new RegExp(`^  ${name} `, 'm'));
      expect(bench.commands.map((command) => command.name()), name).toContain(name);
    }
  });

  it('knows the operations of the table, each with its kind and callers', () => {
    expect(operationNames).toEqual(Object.keys(operationTable));
    for (const text of defaultOperations) expect(() => parseOperation(text, settings), text).not.toThrow();
    expect(parseOperation('GetMailbox', settings).callers).toBe(32);
    expect(parseOperation('ListMailboxes@1', settings).callers).toBe(1);
    expect(parseOperation('Watch', settings).callers).toBe(500);
    expect(parseOperation('Socketmap', settings).entry.kind).toBe('socketmap');
    expect(parseOperation('AuthHttp', settings).entry.listener).toBe('http');
    expect(operationTable.GetMailbox.kind).toBe('unary');
  });

  it('refuses an unknown operation or callers out of bounds, naming them', () => {
    expect(() => parseOperation('GetMailboxes', settings)).toThrow(/unknown operation GetMailboxes; known: GetMailbox,/);
    expect(() => parseOperation('GetMailbox@0', settings)).toThrow(/GetMailbox@0: callers after @ must be a whole number from 1/);
    expect(() => parseOperation(`GetMailbox@${operationCallersMax + 1}`, settings)).toThrow(/callers after @/);
    expect(() => parseOperation('GetMailbox@2.5', settings)).toThrow(/callers after @/);
  });
});
