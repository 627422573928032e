/**
 * `mbdir bench run --engine etcd` as an operator runs it, kept short: it starts
 * its etcd member and two nodes, measures each write beside the raw etcd txn of
 * its shape and the lookups through both nodes beside one node, reports every
 * row with its floor and no failed call, and leaves nothing running. Untimed:
 * the figures themselves are not asserted.
 */
import { expect, it } from 'vitest';
import { runCli } from '../helpers/server-process.js';

interface Row {
  operation: string;
  operations: number;
  errors: number;
  firstError: string;
  echoOpsPerSecond: number | null;
  echoErrors: number | null;
  ratioToEcho: number | null;
}

it('bench run --engine etcd reports each operation beside its floor', { timeout: 180_000 }, async () => {
  const run = await runCli([
    '--json', 'bench', 'run', '--engine', 'etcd', '--etcd-members', '1', '--nodes', '2',
    '--ops', 'CreateMailbox@4,RenameMailbox@4,SetAcl@4,GetMailbox@4', '--duration', '0.6', '--rounds', '2', '--warmup', '0',
  ]);
  expect(run.code, run.stderr).toBe(0);
  const report = JSON.parse(run.stdout) as { engine: string; nodes: number; results: Row[] };
  expect(report.engine).toBe('etcd');
  expect(report.nodes).toBe(2);
  expect(report.results.map((row) => row.operation)).toEqual([
    'CreateMailbox@4', 'RenameMailbox@4', 'SetAcl@4', 'GetMailbox@4 x2 nodes',
  ]);
  for (const row of report.results) {
    expect(row.errors, `${row.operation}: ${row.firstError}`).toBe(0);
    expect(row.echoErrors, row.operation).toBe(0);
    expect(row.operations, row.operation).toBeGreaterThan(0);
    expect(row.echoOpsPerSecond, row.operation).toBeGreaterThan(0);
    expect(row.ratioToEcho, row.operation).not.toBeNull();
  }
});

it('bench run --engine etcd refuses an operation it does not measure, before starting anything', async () => {
  const run = await runCli(['bench', 'run', '--engine', 'etcd', '--ops', 'CreateMailbox,Watch']);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toMatch(/--engine etcd measures CreateMailbox, RenameMailbox, SetAcl, GetMailbox; not Watch/);
});
