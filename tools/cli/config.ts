/**
 * Settings for `mbdir serve`: each has a flag, an environment variable and a
 * config-file key, and a default. Precedence: flag > environment > file >
 * default. Values are checked here, so a bad setting stops start-up with one
 * line naming it.
 */
import { readFileSync } from 'node:fs';
import { recipientRulesOf } from '../../src/model/recipients.js';
import { validateAddress } from '../../src/model/labels.js';
import { limits } from '../../src/model/limits.js';
import { cacheMebibytesMax, defaultCacheMebibytes } from '../../src/server/node-entry.js';

export interface ServeSettings {
  engine: 'standalone' | 'etcd';
  dataDir: string;
  listen: string;
  synchronous: 'FULL' | 'NORMAL' | 'OFF';
  cacheMib: string;
  readThreads: string;
  readThreadNice: string;
  helperThreadNice: string;
  mainThreadPriority: 'normal' | 'realtime';
  nodeId: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tokens: string;
  tlsCert: string;
  tlsKey: string;
  tlsClientCa: string;
  etcdEndpoints: string;
  etcdCa: string;
  etcdCert: string;
  etcdKey: string;
  etcdPrefix: string;
  etcdCompactRetentionRevisions: string;
  etcdMaintenanceIntervalSeconds: string;
  etcdMaintenanceLeaseSeconds: string;
  etcdDefragment: 'yes' | 'no';
  socketmapListen: string;
  socketmapAllowRemote: 'yes' | 'no';
  socketmapRecipientDelimiter: string;
  socketmapFoldCase: 'yes' | 'no';
  socketmapLocalDomains: string;
  dovecotDictListen: string;
  dovecotDictSocketMode: string;
  httpListen: string;
  httpSmtpRelay: string;
  mupdateListen: string;
  mupdateLiterals: 'plus' | 'sync';
}

/**
 * Nice value of the read threads by default: below the main thread, so a
 * point lookup runs as soon as it arrives while a LIST holds the other core
 * (docs/performance.md, "Lookups beside heavy callers").
 */
export const defaultReadThreadNice = 10;

/**
 * Nice value of V8's and Node's helper threads by default: below the main
 * thread's, so a woken request thread is not held behind a garbage-collection
 * or compile run on its core (src/server/thread-priority.ts); 0 keeps them at
 * the main thread's priority (docs/performance.md).
 */
export const defaultHelperThreadNice = 10;

export const serveDefaults: ServeSettings = {
  engine: 'standalone',
  dataDir: './data',
  listen: '127.0.0.1:7878',
  synchronous: 'FULL',
  cacheMib: String(defaultCacheMebibytes),
  readThreads: 'auto',
  readThreadNice: String(defaultReadThreadNice),
  helperThreadNice: String(defaultHelperThreadNice),
  mainThreadPriority: 'normal',
  nodeId: '',
  logLevel: 'info',
  tokens: '',
  tlsCert: '',
  tlsKey: '',
  tlsClientCa: '',
  etcdEndpoints: 'http://127.0.0.1:2379',
  etcdCa: '',
  etcdCert: '',
  etcdKey: '',
  etcdPrefix: '/mbdir',
  etcdCompactRetentionRevisions: '100000',
  etcdMaintenanceIntervalSeconds: String(limits.etcdMaintenanceIntervalSecondsDefault),
  etcdMaintenanceLeaseSeconds: String(limits.etcdMaintenanceLeaseSecondsDefault),
  etcdDefragment: 'yes',
  socketmapListen: '',
  socketmapAllowRemote: 'no',
  socketmapRecipientDelimiter: '+',
  socketmapFoldCase: 'yes',
  socketmapLocalDomains: '',
  dovecotDictListen: '',
  dovecotDictSocketMode: '0660',
  httpListen: '',
  httpSmtpRelay: '',
  mupdateListen: '',
  mupdateLiterals: 'plus',
};

/** Environment variable of each setting: MBDIR_ + the name in upper snake case. */
export function environmentName(key: keyof ServeSettings): string {
  return `MBDIR_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}

/** Settings that are whole numbers: a config file may give them as JSON numbers. */
export const numericSettings: ReadonlySet<keyof ServeSettings> = new Set([
  'cacheMib',
  'readThreads',
  'readThreadNice',
  'helperThreadNice',
  'etcdCompactRetentionRevisions',
  'etcdMaintenanceIntervalSeconds',
  'etcdMaintenanceLeaseSeconds',
]);

/**
 * The read threads a node runs for `setting`: a whole number from 0 (none: the
 * heavy reads run on the main thread) to limits.readThreadsMax, or `auto`: one
 * per core but the main thread's, at least one.
 */
export function readThreadsOf(setting: string, cores: number): number {
  if (setting === 'auto') return Math.min(limits.readThreadsMax, Math.max(1, cores - 1));
  if (!/^\d{1,3}$/.test(setting) || Number(setting) > limits.readThreadsMax) {
    throw new Error(`setting readThreads is ${JSON.stringify(setting)}; expected auto or a whole number from 0 (off) to ${limits.readThreadsMax}`);
  }
  return Number(setting);
}

const choices: Partial<Record<keyof ServeSettings, readonly string[]>> = {
  engine: ['standalone', 'etcd'],
  synchronous: ['FULL', 'NORMAL', 'OFF'],
  logLevel: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  socketmapAllowRemote: ['yes', 'no'],
  etcdDefragment: ['yes', 'no'],
  socketmapFoldCase: ['yes', 'no'],
  mupdateLiterals: ['plus', 'sync'],
  mainThreadPriority: ['normal', 'realtime'],
};

/** Merges flags, environment and config file over the defaults; throws a one-line Error on a bad value. */
export function resolveServeSettings(
  flags: Partial<Record<keyof ServeSettings, string>>,
  environment: NodeJS.ProcessEnv,
  configPath: string | undefined,
): ServeSettings {
  const file = configPath === undefined ? {} : readConfigFile(configPath);
  const settings = { ...serveDefaults } as Record<keyof ServeSettings, string>;
  for (const key of Object.keys(serveDefaults) as Array<keyof ServeSettings>) {
    const value = flags[key] ?? environment[environmentName(key)] ?? file[key];
    if (value === undefined) continue;
    const allowed = choices[key];
    const normalized = key === 'synchronous' ? value.toUpperCase() : value;
    if (allowed !== undefined && !allowed.includes(normalized)) {
      throw new Error(`setting ${key} is ${JSON.stringify(value)}; expected one of ${allowed.join(', ')}`);
    }
    settings[key] = normalized;
  }
  checkHostPort(settings, 'listen', '127.0.0.1:7878');
  checkHttpSettings(settings);
  if (settings.mupdateListen !== '') checkHostPort(settings, 'mupdateListen', '127.0.0.1:3905');
  if (!/^\d{1,6}$/.test(settings.cacheMib) || Number(settings.cacheMib) < 1 || Number(settings.cacheMib) > cacheMebibytesMax) {
    throw new Error(`setting cacheMib is ${JSON.stringify(settings.cacheMib)}; expected MiB from 1 to ${cacheMebibytesMax}`);
  }
  readThreadsOf(settings.readThreads, 1);
  for (const key of ['readThreadNice', 'helperThreadNice'] as const) {
    if (!/^\d{1,2}$/.test(settings[key]) || Number(settings[key]) > limits.readThreadNiceMax) {
      throw new Error(`setting ${key} is ${JSON.stringify(settings[key])}; expected a nice value from 0 (the main thread's priority) to ${limits.readThreadNiceMax}`);
    }
  }
  if (!/^\d{1,12}$/.test(settings.etcdCompactRetentionRevisions)) {
    throw new Error(
      `setting etcdCompactRetentionRevisions is ${JSON.stringify(settings.etcdCompactRetentionRevisions)}; ` +
        'expected a whole number (0: leave compaction to etcd)',
    );
  }
  checkMaintenanceSettings(settings);
  if (settings.engine === 'etcd' && !/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/.test(settings.etcdEndpoints)) {
    throw new Error(
      `setting etcdEndpoints is ${JSON.stringify(settings.etcdEndpoints)}; expected URL[,URL...] such as http://127.0.0.1:2379`,
    );
  }
  checkMailAdapters(settings);
  if (settings.engine === 'etcd') checkEtcdTls(settings);
  else {
    const etcdOnly = (['etcdCa', 'etcdCert', 'etcdKey'] as const).filter((key) => settings[key] !== '');
    if (etcdOnly.length > 0) {
      throw new Error(`setting ${etcdOnly.join(' and ')} is for engine etcd, but engine is ${settings.engine}: give --engine etcd`);
    }
  }
  return settings as unknown as ServeSettings;
}

/** The maintenance schedule and lease: whole seconds within their limits, the lease shorter than the interval's reach. */
function checkMaintenanceSettings(settings: Record<keyof ServeSettings, string>): void {
  const ranges = [
    ['etcdMaintenanceIntervalSeconds', limits.etcdMaintenanceIntervalSecondsMin, limits.etcdMaintenanceIntervalSecondsMax],
    ['etcdMaintenanceLeaseSeconds', limits.etcdMaintenanceLeaseSecondsMin, limits.etcdMaintenanceLeaseSecondsMax],
  ] as const;
  for (const [key, low, high] of ranges) {
    const value = settings[key];
    if (!/^\d{1,6}$/.test(value) || Number(value) < low || Number(value) > high) {
      throw new Error(`setting ${key} is ${JSON.stringify(value)}; expected whole seconds from ${low} to ${high}`);
    }
  }
}

const hostPortShape = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
/** The highest TCP port. */
const portMax = 65535;

/**
 * The one check of every HOST:PORT setting: a host name, IPv4 address or
 * bracketed IPv6 address, and a port from 0 (one picked at start-up) to 65535.
 */
function checkHostPort(settings: Record<keyof ServeSettings, string>, key: keyof ServeSettings, example: string): void {
  const port = hostPortShape.exec(settings[key])?.[2];
  if (port === undefined || Number(port) > portMax) {
    throw new Error(`setting ${key} is ${JSON.stringify(settings[key])}; expected HOST:PORT with a port from 0 to ${portMax}, such as ${example}`);
  }
}

/** The HTTP adapter is off unless httpListen is given; its SMTP relay is a numeric address that needs it. */
function checkHttpSettings(settings: Record<keyof ServeSettings, string>): void {
  if (settings.httpListen !== '') checkHostPort(settings, 'httpListen', '127.0.0.1:8080');
  if (settings.httpSmtpRelay === '') return;
  if (settings.httpListen === '') throw new Error('setting httpSmtpRelay is for the HTTP adapter: give --http-listen too');
  try {
    validateAddress(settings.httpSmtpRelay, 'setting httpSmtpRelay');
  } catch (error) {
    throw new Error((error as Error).message);
  }
}

/**
 * The socketmap and Dovecot dict settings: addresses, and the recipient rules
 * (checked by building them). The socketmap has no authentication, so a
 * non-loopback address needs socketmapAllowRemote.
 */
function checkMailAdapters(settings: Record<keyof ServeSettings, string>): void {
  const listen = settings.socketmapListen;
  if (listen !== '') checkHostPort(settings, 'socketmapListen', '127.0.0.1:7879');
  if (listen !== '' && !isLoopbackListen(listen) && settings.socketmapAllowRemote !== 'yes') {
    throw new Error(
      `refusing socketmap on ${listen}: the socketmap protocol has no authentication, so anyone reaching it learns ` +
        'where every user\'s mail goes. Listen on 127.0.0.1 (Postfix on the same host), or give --socketmap-allow-remote ' +
        'and firewall the port to your Postfix hosts',
    );
  }
  try {
    recipientRulesOf(settings.socketmapRecipientDelimiter, settings.socketmapFoldCase === 'yes', settings.socketmapLocalDomains);
  } catch (error) {
    throw new Error(`setting socketmapRecipientDelimiter or socketmapLocalDomains: ${(error as Error).message}`);
  }
  if (settings.dovecotDictListen !== '' && !settings.dovecotDictListen.startsWith('/')) {
    throw new Error(`setting dovecotDictListen is ${JSON.stringify(settings.dovecotDictListen)}; expected an absolute path of a UNIX socket`);
  }
  if (!/^0?[0-7]{3}$/.test(settings.dovecotDictSocketMode)) {
    throw new Error(`setting dovecotDictSocketMode is ${JSON.stringify(settings.dovecotDictSocketMode)}; expected an octal mode such as 0660`);
  }
}

/** The etcd TLS settings make sense together: https:// endpoints only, a client certificate with its key. */
function checkEtcdTls(settings: Record<keyof ServeSettings, string>): void {
  const endpoints = settings.etcdEndpoints.split(',');
  const secure = endpoints.filter((endpoint) => endpoint.startsWith('https://')).length;
  if (secure !== 0 && secure !== endpoints.length) {
    throw new Error('setting etcdEndpoints mixes http:// and https:// endpoints; one etcd cluster speaks TLS on all of them or none');
  }
  const given = (['etcdCa', 'etcdCert', 'etcdKey'] as const).filter((key) => settings[key] !== '');
  if (secure === 0 && given.length > 0) {
    throw new Error(`setting ${given.join(' and ')} given, but etcdEndpoints are http://: use https:// endpoints for TLS to etcd`);
  }
  if ((settings.etcdCert === '') !== (settings.etcdKey === '')) {
    throw new Error('settings etcdCert and etcdKey go together: the client certificate etcd checks, and its private key');
  }
}

function readConfigFile(path: string): Partial<Record<keyof ServeSettings, string>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    const unknownKeys = Object.keys(parsed).filter((key) => !(key in serveDefaults));
    if (unknownKeys.length > 0) throw new Error(`unknown keys ${unknownKeys.join(', ')}`);
    return configValues(parsed as Record<keyof ServeSettings, unknown>);
  } catch (error) {
    throw new Error(`config file ${path} is not valid: ${(error as Error).message}`);
  }
}

/**
 * A config file's values as the strings flags and the environment give: a
 * numeric setting takes a whole JSON number or a string, every other setting
 * a string; any other type is refused naming the key.
 */
function configValues(parsed: Record<keyof ServeSettings, unknown>): Partial<Record<keyof ServeSettings, string>> {
  const values: Partial<Record<keyof ServeSettings, string>> = {};
  for (const [key, value] of Object.entries(parsed) as Array<[keyof ServeSettings, unknown]>) {
    if (typeof value === 'string') values[key] = value;
    else if (numericSettings.has(key) && typeof value === 'number' && Number.isSafeInteger(value)) values[key] = String(value);
    else throw new Error(`key ${key} must be ${numericSettings.has(key) ? 'a whole number' : 'a string'}, got ${JSON.stringify(value)}`);
  }
  return values;
}

/** True for loopback listen addresses. */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
