// `mbdir serve --config FILE`: a JSON file of settings. Numeric settings take
// JSON numbers as well as strings of digits; a value of the wrong type is
// refused with one line naming the file and the key; flags and the
// environment still win over the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readThreadsOf, resolveServeSettings } from '../../tools/cli/config.js';

const directory = mkdtempSync(join(tmpdir(), 'mbdir-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let files = 0;
function configFile(settings: Record<string, unknown>): string {
  files += 1;
  const path = join(directory, `config-${files}.json`);
  writeFileSync(path, JSON.stringify(settings));
  return path;
}

function refusal(settings: Record<string, unknown>): string {
  const path = configFile(settings);
  try {
    resolveServeSettings({}, {}, path);
  } catch (error) {
    const message = (error as Error).message;
    expect(message).toContain(path);
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error(`expected ${JSON.stringify(settings)} to be refused`);
}

describe('serve config file', () => {
  it('takes JSON numbers for numeric settings', () => {
    const settings = resolveServeSettings({}, {}, configFile({ cacheMib: 64, etcdCompactRetentionRevisions: 0, engine: 'etcd' }));
    expect(settings.cacheMib).toBe('64');
    expect(settings.etcdCompactRetentionRevisions).toBe('0');
    expect(settings.engine).toBe('etcd');
  });

  it('still takes strings of digits, and a flag or the environment wins over the file', () => {
    const path = configFile({ cacheMib: '48' });
    expect(resolveServeSettings({}, {}, path).cacheMib).toBe('48');
    expect(resolveServeSettings({}, { MBDIR_CACHE_MIB: '40' }, path).cacheMib).toBe('40');
    expect(resolveServeSettings({ cacheMib: '16' }, { MBDIR_CACHE_MIB: '40' }, path).cacheMib).toBe('16');
  });

  it('refuses a value of the wrong type, naming the key', () => {
    expect(refusal({ cacheMib: true })).toMatch(/key cacheMib must be a whole number, got true/);
    expect(refusal({ cacheMib: 64.5 })).toMatch(/key cacheMib must be a whole number, got 64\.5/);
    expect(refusal({ etcdCompactRetentionRevisions: [1] })).toMatch(/key etcdCompactRetentionRevisions must be a whole number, got \[1\]/);
    expect(refusal({ engine: 5 })).toMatch(/key engine must be a string, got 5/);
    expect(refusal({ listen: null })).toMatch(/key listen must be a string, got null/);
  });

  it('takes the etcd maintenance schedule, lease and defragmentation from the file, flags winning', () => {
    const path = configFile({ engine: 'etcd', etcdMaintenanceIntervalSeconds: 60, etcdMaintenanceLeaseSeconds: '10', etcdDefragment: 'no' });
    const settings = resolveServeSettings({}, {}, path);
    expect([settings.etcdMaintenanceIntervalSeconds, settings.etcdMaintenanceLeaseSeconds, settings.etcdDefragment]).toEqual(['60', '10', 'no']);
    const overridden = resolveServeSettings({ etcdMaintenanceIntervalSeconds: '5' }, { MBDIR_ETCD_DEFRAGMENT: 'yes' }, path);
    expect([overridden.etcdMaintenanceIntervalSeconds, overridden.etcdDefragment]).toEqual(['5', 'yes']);
    const defaults = resolveServeSettings({}, {}, undefined);
    expect([defaults.etcdMaintenanceIntervalSeconds, defaults.etcdMaintenanceLeaseSeconds, defaults.etcdDefragment]).toEqual(['300', '30', 'yes']);
  });

  it('refuses a maintenance interval or lease out of range, and a defragment other than yes or no', () => {
    expect(() => resolveServeSettings({}, {}, configFile({ etcdMaintenanceIntervalSeconds: 0 }))).toThrow(
      /setting etcdMaintenanceIntervalSeconds is "0"; expected whole seconds from 1 to 86400/,
    );
    expect(() => resolveServeSettings({ etcdMaintenanceLeaseSeconds: '1' }, {}, undefined)).toThrow(
      /setting etcdMaintenanceLeaseSeconds is "1"; expected whole seconds from 2 to 3600/,
    );
    expect(() => resolveServeSettings({}, { MBDIR_ETCD_DEFRAGMENT: 'sometimes' }, undefined)).toThrow(/setting etcdDefragment is "sometimes"; expected one of yes, no/);
    expect(refusal({ etcdMaintenanceLeaseSeconds: true })).toMatch(/key etcdMaintenanceLeaseSeconds must be a whole number, got true/);
  });

  it('checks a number from the file against the same range as a flag', () => {
    expect(() => resolveServeSettings({}, {}, configFile({ cacheMib: 0 }))).toThrow(/setting cacheMib is "0"; expected MiB from 1 to/);
  });

  it('takes readThreads as auto (one per core but one, at least one), a JSON number or digits, and refuses anything else naming it', () => {
    expect(resolveServeSettings({}, {}, undefined).readThreads).toBe('auto');
    expect([1, 2, 16, 200].map((cores) => readThreadsOf('auto', cores))).toEqual([1, 1, 15, 64]);
    expect(readThreadsOf(resolveServeSettings({}, {}, configFile({ readThreads: 0 })).readThreads, 8)).toBe(0);
    expect(readThreadsOf(resolveServeSettings({}, { MBDIR_READ_THREADS: '3' }, undefined).readThreads, 8)).toBe(3);
    expect(() => resolveServeSettings({ readThreads: '65' }, {}, undefined)).toThrow(/setting readThreads is "65"; expected auto or a whole number from 0 \(off\) to 64/);
    expect(() => resolveServeSettings({ readThreads: 'off' }, {}, undefined)).toThrow(/setting readThreads is "off"/);
  });

  it('takes mainThreadPriority normal (the default) or realtime, and refuses anything else naming it', () => {
    expect(resolveServeSettings({}, {}, undefined).mainThreadPriority).toBe('normal');
    expect(resolveServeSettings({}, { MBDIR_MAIN_THREAD_PRIORITY: 'realtime' }, undefined).mainThreadPriority).toBe('realtime');
    expect(resolveServeSettings({}, {}, configFile({ mainThreadPriority: 'realtime' })).mainThreadPriority).toBe('realtime');
    expect(() => resolveServeSettings({ mainThreadPriority: 'high' }, {}, undefined)).toThrow(/setting mainThreadPriority is "high"; expected one of normal, realtime/);
  });

  it('takes readThreadNice from 0 to 19 (default 10) and refuses anything else naming it', () => {
    expect(resolveServeSettings({}, {}, undefined).readThreadNice).toBe('10');
    expect(resolveServeSettings({}, {}, configFile({ readThreadNice: 0 })).readThreadNice).toBe('0');
    expect(resolveServeSettings({}, { MBDIR_READ_THREAD_NICE: '19' }, undefined).readThreadNice).toBe('19');
    expect(() => resolveServeSettings({ readThreadNice: '20' }, {}, undefined)).toThrow(/setting readThreadNice is "20"; expected a nice value from 0 .* to 19/);
    expect(() => resolveServeSettings({ readThreadNice: '-5' }, {}, undefined)).toThrow(/setting readThreadNice is "-5"/);
  });

  it('takes helperThreadNice from 0 to 19 (10 by default) and refuses anything else naming it', () => {
    expect(resolveServeSettings({}, {}, undefined).helperThreadNice).toBe('10');
    expect(resolveServeSettings({}, {}, configFile({ helperThreadNice: 10 })).helperThreadNice).toBe('10');
    expect(resolveServeSettings({}, { MBDIR_HELPER_THREAD_NICE: '19' }, undefined).helperThreadNice).toBe('19');
    expect(() => resolveServeSettings({ helperThreadNice: '20' }, {}, undefined)).toThrow(/setting helperThreadNice is "20"; expected a nice value from 0 .* to 19/);
    expect(() => resolveServeSettings({ helperThreadNice: 'low' }, {}, undefined)).toThrow(/setting helperThreadNice is "low"/);
  });

  it('refuses a port above 65535 in every HOST:PORT setting, naming it, and takes 0 to 65535', () => {
    for (const key of ['listen', 'httpListen', 'mupdateListen', 'socketmapListen'] as const) {
      for (const port of ['0', '65535']) {
        expect(resolveServeSettings({ [key]: `127.0.0.1:${port}` }, {}, undefined)[key], key).toBe(`127.0.0.1:${port}`);
      }
      for (const value of ['127.0.0.1:99999', '127.0.0.1:65536', '[::1]:70000', 'localhost']) {
        expect(() => resolveServeSettings({ [key]: value }, {}, undefined), `${key} ${value}`).toThrow(
          new RegExp(`^setting ${key} is ${JSON.stringify(value).replace(/[[\].]/g, '\\$&')}; expected HOST:PORT with a port from 0 to 65535, such as `),
        );
      }
    }
    expect(() => resolveServeSettings({}, { MBDIR_HTTP_LISTEN: '127.0.0.1:65536' }, undefined)).toThrow(/^setting httpListen is "127\.0\.0\.1:65536"; expected HOST:PORT/);
    expect(() => resolveServeSettings({}, {}, configFile({ mupdateListen: '0.0.0.0:99999' }))).toThrow(/^setting mupdateListen is "0\.0\.0\.0:99999"; expected HOST:PORT/);
  });
});
