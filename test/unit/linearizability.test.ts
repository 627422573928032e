/**
 * The linearizability checker used by the cluster tests: it must accept
 * histories that have a legal order and refuse ones that do not, including
 * with operations whose outcome is unknown.
 */
import { describe, expect, it } from 'vitest';
import { checkLinearizable, type HistoryEntry } from '../helpers/linearizability.js';

const create = (name: string, uniqueid: string, outcome: HistoryEntry['outcome'], invokedAt: number, returnedAt: number): HistoryEntry => ({
  operation: { kind: 'create', name, uniqueid },
  outcome,
  invokedAt,
  returnedAt,
});

describe('linearizability checker', () => {
  it('accepts two overlapping creates of one name where one wins', () => {
    const history = [create('user.a', 'x', 'exists', 0, 10), create('user.a', 'y', 'ok', 1, 5)];
    expect(checkLinearizable(history).linearizable).toBe(true);
  });

  it('refuses two creates of one name that both succeed', () => {
    const history = [create('user.a', 'x', 'ok', 0, 10), create('user.a', 'y', 'ok', 1, 5)];
    expect(checkLinearizable(history).linearizable).toBe(false);
  });

  it('refuses a rename of a name that was never created', () => {
    const history = [
      create('user.a', 'x', 'ok', 0, 1),
      { operation: { kind: 'rename', name: 'user.b', newName: 'user.c' }, outcome: 'ok', invokedAt: 2, returnedAt: 3 } as HistoryEntry,
    ];
    expect(checkLinearizable(history).linearizable).toBe(false);
  });

  it('lets an operation with an unknown outcome take effect or not', () => {
    const tookEffect = [create('user.a', 'x', 'unknown', 0, 1), create('user.a', 'y', 'exists', 2, 3)];
    const didNot = [create('user.a', 'x', 'unknown', 0, 1), create('user.a', 'y', 'ok', 2, 3)];
    expect(checkLinearizable(tookEffect).linearizable).toBe(true);
    expect(checkLinearizable(didNot).linearizable).toBe(true);
  });

  it('follows renames and deletes', () => {
    const history: HistoryEntry[] = [
      create('user.a', 'x', 'ok', 0, 1),
      { operation: { kind: 'rename', name: 'user.a', newName: 'user.b' }, outcome: 'ok', invokedAt: 2, returnedAt: 3 },
      create('user.b', 'z', 'exists', 4, 5),
      { operation: { kind: 'delete', name: 'user.a' }, outcome: 'notfound', invokedAt: 4, returnedAt: 6 },
      { operation: { kind: 'delete', name: 'user.b' }, outcome: 'ok', invokedAt: 7, returnedAt: 8 },
    ];
    expect(checkLinearizable(history).linearizable).toBe(true);
    const wrong = [...history, create('user.b', 'w', 'exists', 9, 10)];
    expect(checkLinearizable(wrong).linearizable).toBe(false);
  });
});
