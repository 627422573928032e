/**
 * Group commit of the etcd engine's writes: the txns planned in one turn of
 * the event loop go to etcd as one request, each as a nested txn (etcd 3.3+)
 * that keeps its own guard and its own branch, so one raft entry, one etcd
 * apply and one watch response carry many writes, and this node pays one etcd
 * call for them. Only independent txns share a request (no key one puts is
 * put or guarded by another), so committing them at one revision equals
 * committing them one after the other in any order. Each puts its log under
 * its own slot (`log/<n>`; etcd refuses two puts of one key in a request), and
 * the request puts `log` too, which stays the newest write's revision. Bounded:
 * etcdWriteBatchTxnsMax txns and etcd's op and byte limits per request. A lone
 * txn, or one that must avoid endpoints, is sent as it is.
 */
import { limits } from '../model/limits.js';
import type { EtcdClient, RequestOp, TxnRequest, TxnResponse } from './etcd-client.js';
import type { Keyspace } from './etcd-keyspace.js';

interface Waiting {
  txn: TxnRequest;
  /** Keys the txn puts, and every key it puts or guards. */
  puts: Set<string>;
  touched: Set<string>;
  ops: number;
  bytes: number;
  resolve: (response: TxnResponse) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  members: Waiting[];
  puts: Set<string>;
  touched: Set<string>;
  opsMax: number;
  bytes: number;
}

/** What a request carries beyond its txns' keys and values (field tags, revisions), per op: generous. */
const opOverheadBytes = 32;
/**
 * The value of the `log` key a batch puts: no changes of its own (its slots carry them). It
 * has no `changes` list, so a node of a version that knows no batches fails to apply the
 * revision and says so, rather than apply it without its slots' changes.
 */
const batchLogValue = Buffer.from('{"requestId":"","batch":true}');

export class EtcdWriteBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly logKey: Buffer;
  private readonly logKeyText: string;

  constructor(
    private readonly client: EtcdClient,
    private readonly keyspace: Keyspace,
  ) {
    this.logKey = Buffer.from(keyspace.logKey());
    this.logKeyText = this.logKey.toString('latin1');
  }

  /** Sends `txn` (one attempt), with the txns planned beside it when they are independent of it. */
  txn(txn: TxnRequest, skip: ReadonlySet<string>): Promise<TxnResponse> {
    if (skip.size > 0) return this.client.txn(txn, skip);
    return new Promise((resolve, reject) => {
      this.waiting.push({ txn, ...keysOf(txn), resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const waiting = this.waiting;
    this.waiting = [];
    const batches: Batch[] = [];
    for (const member of waiting) {
      const batch = batches.find((candidate) => fits(candidate, member, this.logKeyText));
      if (batch === undefined) batches.push({ members: [member], puts: new Set(member.puts), touched: new Set(member.touched), opsMax: member.ops, bytes: member.bytes });
      else join(batch, member);
    }
    for (const batch of batches) this.send(batch);
  }

  private send(batch: Batch): void {
    const [only] = batch.members;
    if (batch.members.length === 1 && only !== undefined) {
      this.client.txn(only.txn).then(only.resolve, only.reject);
      return;
    }
    const success: RequestOp[] = batch.members.map((member, slot) => ({ request_txn: this.slotted(member.txn, slot) }));
    success.push({ request_put: { key: this.logKey, value: batchLogValue } });
    this.client.txn({ compare: [], success, failure: [] }).then(
      (response) => {
        batch.members.forEach((member, slot) => {
          const inner = response.responses[slot]?.response_txn;
          if (inner === undefined || inner === null) member.reject(new Error('etcd answered a batch of writes without the answer of each'));
          else member.resolve({ header: response.header, succeeded: inner.succeeded, responses: inner.responses });
        });
      },
      (error: unknown) => {
        for (const member of batch.members) member.reject(error);
      },
    );
  }

  /** `txn` with its log put moved to the slot's own key. */
  private slotted(txn: TxnRequest, slot: number): TxnRequest {
    const success = txn.success.map((op): RequestOp =>
      'request_put' in op && op.request_put.key.equals(this.logKey)
        ? { request_put: { key: Buffer.from(this.keyspace.logSlotKey(slot)), value: op.request_put.value } }
        : op,
    );
    return { compare: txn.compare, success, failure: txn.failure };
  }
}

function keysOf(txn: TxnRequest): Omit<Waiting, 'txn' | 'resolve' | 'reject'> {
  const puts = new Set<string>();
  const touched = new Set<string>();
  let bytes = 0;
  for (const op of txn.success) {
    if (!('request_put' in op)) continue;
    const key = op.request_put.key.toString('latin1');
    puts.add(key);
    touched.add(key);
    bytes += op.request_put.key.length + op.request_put.value.length + opOverheadBytes;
  }
  for (const compare of txn.compare) {
    touched.add(compare.key.toString('latin1'));
    bytes += compare.key.length + opOverheadBytes;
  }
  for (const op of txn.failure) bytes += ('request_range' in op ? op.request_range.key.length : 0) + opOverheadBytes;
  const ops = Math.max(txn.compare.length, txn.success.length, txn.failure.length);
  return { puts, touched, ops, bytes };
}

/**
 * True when `member` may join `batch`: no key it puts is touched by the batch, no key it
 * touches is put by the batch (the log key is slotted apart), and etcd's bounds hold: a
 * nested txn may hold etcdTxnOpsMax less the outer list's length in each of its lists.
 */
function fits(batch: Batch, member: Waiting, logKey: string): boolean {
  const isLog = (key: string): boolean => key === logKey;
  const size = batch.members.length + 1;
  if (size > limits.etcdWriteBatchTxnsMax) return false;
  if (Math.max(batch.opsMax, member.ops) + size + 1 > limits.etcdTxnOpsMax) return false;
  if (batch.bytes + member.bytes > limits.etcdRequestBytesMax / 2) return false;
  for (const key of member.puts) if (!isLog(key) && batch.touched.has(key)) return false;
  for (const key of member.touched) if (!isLog(key) && batch.puts.has(key)) return false;
  return true;
}


function join(batch: Batch, member: Waiting): void {
  batch.members.push(member);
  for (const key of member.puts) batch.puts.add(key);
  for (const key of member.touched) batch.touched.add(key);
  batch.opsMax = Math.max(batch.opsMax, member.ops);
  batch.bytes += member.bytes;
}
