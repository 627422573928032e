/**
 * Runs tasks with bounded concurrency: at most `parallel` at once, and at most
 * `perServer` in flight touching any one server (a move touches its source and
 * its target). A task whose servers are busy waits while later tasks that fit
 * go first; order is otherwise the plan's. Pure scheduling: no I/O of its own.
 */

export interface ServerTask {
  servers: readonly string[];
  run: () => Promise<void>;
}

export interface SchedulerLimits {
  parallel: number;
  perServer: number;
}

/** Runs every task; resolves when all have settled or `shouldStop` turned true and the running ones ended. */
export async function runScheduled(tasks: readonly ServerTask[], bounds: SchedulerLimits, shouldStop: () => boolean): Promise<void> {
  const pending = [...tasks];
  const inFlight = new Map<string, number>();
  const running = new Set<Promise<void>>();
  const fits = (task: ServerTask): boolean => task.servers.every((server) => (inFlight.get(server) ?? 0) < bounds.perServer);
  const adjust = (task: ServerTask, delta: number): void => {
    for (const server of new Set(task.servers)) inFlight.set(server, (inFlight.get(server) ?? 0) + delta);
  };
  for (;;) {
    while (!shouldStop() && running.size < bounds.parallel) {
      const index = pending.findIndex(fits);
      if (index < 0) break;
      const [task] = pending.splice(index, 1) as [ServerTask];
      adjust(task, 1);
      const promise: Promise<void> = task
        .run()
        .catch(() => undefined)
        .finally(() => {
          adjust(task, -1);
          running.delete(promise);
        });
      running.add(promise);
    }
    if (running.size === 0) return;
    await Promise.race(running);
  }
}
