// A fast codec that refuses a value hands it to proto-loader's generic codec: the
// caller gets the generic result, the fallback is counted (and exported by the node's
// metrics as mbdir_codec_fallbacks_total{method,direction}), and a warning naming the
// method and the error is logged, at most once per interval per method and direction.
import * as protoLoader from '@grpc/proto-loader';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { codecFallbackCounts, useCodecFallbackLogger } from '../../src/api/codec-fallbacks.js';
import { loaderOptions, protoPath, services } from '../../src/api/proto.js';
import { limits } from '../../src/model/limits.js';
import { NodeMetrics } from '../../src/server/metrics/node-metrics.js';

const generic = protoLoader.loadSync(protoPath, loaderOptions)['mbdir.v1.Mailboxes'] as Record<string, protoLoader.MethodDefinition<object, object>>;
const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
let nowMs = 1_000_000;
useCodecFallbackLogger(pino({ level: 'warn' }, sink), () => nowMs);
afterAll(() => sink.destroy());

const countOf = (method: string, direction: string): number =>
  codecFallbackCounts().find((entry) => entry.method === method && entry.direction === direction)?.count ?? -1;

function method(name: string): protoLoader.MethodDefinition<object, object> {
  const found = (services.Mailboxes.service as Record<string, protoLoader.MethodDefinition<object, object>>)[name];
  if (found === undefined) throw new Error(`no method ${name}`);
  return found;
}

describe('fast codec fallbacks', () => {
  it('encode: a uint64 given as a string goes to the generic encoder, counted and logged once per interval', () => {
    const response = { mailbox: { name: 'user.ann', uniqueid: 'u1', uidvalidity: '1700000000' }, revision: 7 };
    const before = countOf('GetMailbox', 'encode');
    expect(before).toBe(0); // registered when src/api loaded, before any fallback
    const bytes = method('GetMailbox').responseSerialize(response);
    expect(bytes).toEqual(generic['GetMailbox']?.responseSerialize(response));
    expect(generic['GetMailbox']?.responseDeserialize(bytes)).toMatchObject({ mailbox: { name: 'user.ann', uidvalidity: 1700000000 }, revision: 7 });
    expect(countOf('GetMailbox', 'encode')).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, method: 'GetMailbox', direction: 'encode', error: 'fast-encode: mbdir.v1.Mailbox.uidvalidity is not a non-negative integer below 2^53' });
    expect(String(lines[0]?.['msg'])).toContain('GetMailbox');

    method('GetMailbox').responseSerialize(response); // within the interval: counted, not logged
    expect(countOf('GetMailbox', 'encode')).toBe(2);
    expect(lines).toHaveLength(1);
    nowMs += limits.codecFallbackLogIntervalMs;
    method('GetMailbox').responseSerialize(response);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ method: 'GetMailbox', direction: 'encode', skippedSinceLast: 1 });
  });

  it('decode: a known field with another wire type goes to the generic decoder', () => {
    // WatchEvent field 3 (uint64 revision) sent with wire type 1: the fast decoder refuses it,
    // protobufjs reads the varint that follows.
    const bytes = Buffer.from([0x19, 0x05]);
    const decoded = method('Watch').responseDeserialize(bytes);
    expect(decoded).toEqual(generic['Watch']?.responseDeserialize(bytes));
    expect(decoded).toMatchObject({ revision: 5 });
    expect(countOf('Watch', 'decode')).toBe(1);
    expect(lines.at(-1)).toMatchObject({ method: 'Watch', direction: 'decode', error: 'protobuf: mbdir.v1.WatchEvent field 3 has wire type 1' });
  });

  it('a well-formed value takes the fast path: nothing counted', () => {
    const before = codecFallbackCounts();
    const bytes = method('ListMailboxes').responseSerialize({ mailboxes: [{ mailbox: { name: 'user.ann' }, my_rights: 'lr' }], revision: 3 });
    method('ListMailboxes').responseDeserialize(bytes);
    expect(codecFallbackCounts()).toEqual(before);
  });

  it('the node exports the counts on /metrics', async () => {
    const metrics = new NodeMetrics(
      { version: '0', nodeId: 'fallbacks', engine: 'standalone' },
      { appliedRevision: () => 0, mailboxCounts: () => ({ active: 0, reserved: 0 }), watchSubscribers: () => 0, engineStatus: () => Promise.reject(new Error('unused')) },
    );
    const text = await metrics.registry.getSingleMetricAsString('mbdir_codec_fallbacks_total');
    expect(text).toContain('mbdir_codec_fallbacks_total{method="GetMailbox",direction="encode"} 3');
    expect(text).toContain('mbdir_codec_fallbacks_total{method="Watch",direction="decode"} 1');
    expect(text).toContain('mbdir_codec_fallbacks_total{method="ListMailboxes",direction="encode"} 0');
  });
});
