/**
 * Remembers, between LISTs, whether a mailbox has an ACTIVE child: LIST asks
 * it of every shared mailbox it returns (one index probe each), and a business's
 * members all list the same group and `anyone` folders. Only the store fills
 * and empties it: any mailbox put or delete clears all of it before the change
 * is visible (a put may add, rename, activate or remove any mailbox's child),
 * and so does a rolled-back transaction. Bounded in entries; never consulted
 * inside a write.
 */

/** Mailboxes whose answer is kept at most; past this the memo starts again empty. */
export const childrenMemoEntriesMax = 50_000;

export class ChildrenMemo {
  /** Sort key (as a latin1 string: one char per byte) -> has an ACTIVE child. */
  private readonly answers = new Map<string, boolean>();

  /** The remembered answer for the mailbox of sort key `key`, or `probe()`'s, remembered. */
  hasChildren(key: Buffer, probe: () => boolean): boolean {
    const memoKey = key.toString('latin1');
    const known = this.answers.get(memoKey);
    if (known !== undefined) return known;
    const answer = probe();
    if (this.answers.size >= childrenMemoEntriesMax) this.answers.clear();
    this.answers.set(memoKey, answer);
    return answer;
  }

  /** Answers kept now. */
  get size(): number {
    return this.answers.size;
  }

  clear(): void {
    this.answers.clear();
  }
}
