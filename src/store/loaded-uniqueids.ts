/**
 * The uniqueids an empty-directory bulk load (bulk-load.ts) has written, for
 * its duplicate check. The load drops the unique index on uniqueid while it
 * runs and rebuilds it by one sort at the end: uniqueids come in random order,
 * so keeping that index up row by row was the costliest part of every insert
 * (about 10 of the 17 seconds SQLite spent inserting 2M rows here). A
 * duplicate must still be refused as it comes, so this set answers "which row
 * holds this uniqueid?" in memory.
 *
 * It keeps 32-bit hashes and rowids in typed arrays (open addressing, at most
 * half full: 16 to 32 bytes a mailbox, 48 MB at 2M), not millions of strings. Equal hashes
 * are confirmed by reading the uniqueid of the row (`uniqueidAt`), so a hash
 * collision costs one read by rowid and is never a false conflict. Bounded
 * by `loadedUniqueidsMax` (1 GiB of slots): a bigger load is refused with an
 * error saying so, never grown past it.
 */

/** FNV-1a over the UTF-16 code units: cheap, and spreads uniqueids well. */
export function uniqueidHash(uniqueid: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < uniqueid.length; index += 1) {
    hash = Math.imul(hash ^ uniqueid.charCodeAt(index), 0x01000193);
  }
  return hash | 0;
}

const initialSlots = 1 << 16;

/** Uniqueids one bulk load keeps at most (2^26: 2^27 slots of 8 bytes, 1 GiB, at most half full). */
export const loadedUniqueidsMax = 1 << 26;

export class LoadedUniqueids {
  private hashes = new Int32Array(initialSlots);
  /** Rowid of the row in each slot; 0 marks an empty slot (SQLite rowids of a load start at 1). */
  private rowids = new Uint32Array(initialSlots);
  private count = 0;

  /** The hash, as the Int32Array keeps it (a hash outside int32 would never match itself). */
  private readonly hash: (uniqueid: string) => number;

  constructor(
    /** The uniqueid of a row the load wrote. */
    private readonly uniqueidAt: (rowid: number) => string | undefined,
    hash: (uniqueid: string) => number = uniqueidHash,
    private readonly entriesMax: number = loadedUniqueidsMax,
  ) {
    this.hash = (uniqueid) => hash(uniqueid) | 0;
  }

  get size(): number {
    return this.count;
  }

  /** The hash this set files `uniqueid` under (to pass to `rowidOf` and `add` when both are asked). */
  hashOf(uniqueid: string): number {
    return this.hash(uniqueid);
  }

  /** The rowid of the loaded row holding `uniqueid`, or 0 when none holds it. */
  rowidOf(uniqueid: string, hash = this.hash(uniqueid)): number {
    const mask = this.hashes.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const rowid = this.rowids[slot] ?? 0;
      if (rowid === 0) return 0;
      if (this.hashes[slot] === hash && this.uniqueidAt(rowid) === uniqueid) return rowid;
    }
  }

  /** Records that row `rowid` (> 0) holds `uniqueid`, which no loaded row held (`rowidOf` gave 0). */
  add(uniqueid: string, rowid: number, hash = this.hash(uniqueid)): void {
    if (!(rowid > 0 && rowid <= 0xffffffff)) throw new Error(`LoadedUniqueids.add: rowid ${rowid} is out of range`);
    if (this.count >= this.entriesMax) {
      throw new Error(`bulk load: more than ${this.entriesMax} mailboxes in one load of an empty directory; import the rest in a second run`);
    }
    if ((this.count + 1) * 2 > this.hashes.length) this.grow();
    this.place(hash, rowid);
    this.count += 1;
  }

  private place(hash: number, rowid: number): void {
    const mask = this.hashes.length - 1;
    let slot = hash & mask;
    while ((this.rowids[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
    this.hashes[slot] = hash;
    this.rowids[slot] = rowid;
  }

  private grow(): void {
    const hashes = this.hashes;
    const rowids = this.rowids;
    this.hashes = new Int32Array(hashes.length * 2);
    this.rowids = new Uint32Array(rowids.length * 2);
    for (let slot = 0; slot < rowids.length; slot += 1) {
      const rowid = rowids[slot] ?? 0;
      if (rowid !== 0) this.place(hashes[slot] ?? 0, rowid);
    }
  }
}
