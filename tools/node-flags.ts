/**
 * The V8 flags a serving node runs with. A node's heap is small (tens of MB),
 * but it takes and drops large buffers at a high rate (LIST answers, scan and
 * Watch pages from the read threads, HTTP/2 frames). V8 sizes its old
 * generation from the live heap, so under 8 heavy LIST callers it ran a full
 * collection about every 200 ms, each pausing the main thread 4-29 ms in every
 * lookup's way; with the old generation starting at 128 MiB they became rare
 * (48 to 3-4 in 12 s). V8 reads heap sizes only when the process starts and
 * NODE_OPTIONS refuses this flag, so it is on the command lines that start a
 * node: `mbdir`'s #! line (the installed command and the systemd unit),
 * `npm start`, and the node the bench starts. test/unit/node-flags.test.ts
 * keeps them the same.
 */
export const serveNodeFlags: readonly string[] = ['--initial-old-space-size=128'];

/** The flags of serveNodeFlags this process was started without (for a line in the log). */
export function missingServeNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return serveNodeFlags.filter((flag) => !execArgv.includes(flag));
}
