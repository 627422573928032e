/**
 * A linearizability checker (Wing & Gong's search with Lowe's memoization, as
 * Knossos and Porcupine do) for histories of mailbox-name operations: create,
 * rename and delete over a small set of names, modelled as one map name ->
 * uniqueid. An operation whose outcome is unknown (the call failed with
 * UNAVAILABLE or a deadline) may take effect at any point after it started, or
 * never. Iterative (an explicit stack, no recursion); bounded by `stepsMax`.
 * Pure: no I/O, no clock.
 */

export type Operation =
  | { kind: 'create'; name: string; uniqueid: string }
  | { kind: 'rename'; name: string; newName: string }
  | { kind: 'delete'; name: string };

/** What the caller saw: a determinate answer, or `unknown` when the call failed without one. */
export type Outcome = 'ok' | 'exists' | 'notfound' | 'unknown';

export interface HistoryEntry {
  operation: Operation;
  outcome: Outcome;
  /** Monotonic times (any unit) when the call was sent and when its answer came back. */
  invokedAt: number;
  returnedAt: number;
}

export interface CheckResult {
  linearizable: boolean;
  /** Search steps taken. */
  steps: number;
  /** When not linearizable: the longest prefix order found, as indexes into the history. */
  longestOrder: number[];
}

type State = ReadonlyMap<string, string>;

/** Applies one operation to the model; returns the answer it gives and the next state. */
export function step(state: State, operation: Operation): { outcome: Outcome; next: State } {
  const next = new Map(state);
  switch (operation.kind) {
    case 'create': {
      const holder = state.get(operation.name);
      if (holder === operation.uniqueid) return { outcome: 'ok', next: state };
      if (holder !== undefined) return { outcome: 'exists', next: state };
      next.set(operation.name, operation.uniqueid);
      return { outcome: 'ok', next };
    }
    case 'rename': {
      const holder = state.get(operation.name);
      if (holder === undefined) return { outcome: 'notfound', next: state };
      if (state.has(operation.newName)) return { outcome: 'exists', next: state };
      next.delete(operation.name);
      next.set(operation.newName, holder);
      return { outcome: 'ok', next };
    }
    case 'delete':
      if (!state.has(operation.name)) return { outcome: 'notfound', next: state };
      next.delete(operation.name);
      return { outcome: 'ok', next };
  }
}

function stateKey(state: State): string {
  return [...state.entries()].sort().map(([name, id]) => `${name}=${id}`).join(',');
}

interface Frame {
  index: number;
  state: State;
}

/** Searches for an order of the history consistent with real time and the model. */
export function checkLinearizable(history: readonly HistoryEntry[], stepsMax = 5_000_000): CheckResult {
  const entries = history.map((entry, index) => ({
    ...entry,
    index,
    returnedAt: entry.outcome === 'unknown' ? Number.POSITIVE_INFINITY : entry.returnedAt,
  }));
  const required = entries.filter((entry) => entry.outcome !== 'unknown').length;
  const done = new Uint8Array(entries.length);
  const seen = new Set<string>();
  const stack: Frame[] = [];
  let state: State = new Map();
  let doneRequired = 0;
  let steps = 0;
  let longest: number[] = [];
  let resumeFrom = 0;
  for (;;) {
    if (doneRequired === required) return { linearizable: true, steps, longestOrder: stack.map((frame) => frame.index) };
    if (steps >= stepsMax) throw new Error(`linearizability search passed ${stepsMax} steps; check a shorter history`);
    // Candidates: not yet placed, and invoked before every pending operation returned.
    let horizon = Number.POSITIVE_INFINITY;
    for (const entry of entries) if (done[entry.index] === 0) horizon = Math.min(horizon, entry.returnedAt);
    let advanced = false;
    for (let candidate = resumeFrom; candidate < entries.length; candidate += 1) {
      const entry = entries[candidate];
      if (entry === undefined || done[candidate] === 1 || entry.invokedAt > horizon) continue;
      steps += 1;
      const result = step(state, entry.operation);
      if (entry.outcome !== 'unknown' && result.outcome !== entry.outcome) continue;
      done[candidate] = 1;
      const key = `${Array.from(done).join('')}|${stateKey(result.next)}`;
      if (seen.has(key)) {
        done[candidate] = 0;
        continue;
      }
      seen.add(key);
      stack.push({ index: candidate, state });
      if (entry.outcome !== 'unknown') doneRequired += 1;
      state = result.next;
      advanced = true;
      resumeFrom = 0;
      break;
    }
    if (advanced) {
      if (stack.length > longest.length) longest = stack.map((frame) => frame.index);
      continue;
    }
    const frame = stack.pop();
    if (frame === undefined) return { linearizable: false, steps, longestOrder: longest };
    done[frame.index] = 0;
    if (entries[frame.index]?.outcome !== 'unknown') doneRequired -= 1;
    state = frame.state;
    resumeFrom = frame.index + 1;
  }
}
