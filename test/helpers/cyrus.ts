/**
 * Starts real Cyrus IMAP 3.6 programs (Debian's cyrus-imapd and cyrus-murder)
 * for the interop tests: a mupdate master, a murder backend (imapd pointing at
 * a MUPDATE master) or a murder frontend (imapd plus mupdate as a slave), each
 * a Cyrus `master -D` in its own temporary directory, owned by the `cyrus`
 * user (Cyrus refuses to run as root; master binds, then drops to it), on
 * loopback ports picked here. `stop()` ends the whole process group and removes
 * the directory. Cyrus logs only to syslog; when a C compiler is present, a
 * small LD_PRELOAD shim (cyrus-syslog-shim.c) writes those lines to a file, so
 * a failing test can say what Cyrus complained about.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './etcd-cluster.js';

export const cyrusBin = '/usr/lib/cyrus/bin';
/** How long a Cyrus instance may take to answer on its port. */
const cyrusStartMsMax = 20_000;
/** How long Cyrus's master may take to stop its children and exit. */
const cyrusStopMsMax = 10_000;
/** The Cyrus tools' runs (ctl_mboxlist -m and friends) end within this. */
const cyrusToolMsMax = 60_000;

/** True when Debian's Cyrus programs are installed (the interop suites need them). */
export function cyrusInstalled(): boolean {
  return existsSync(join(cyrusBin, 'master')) && existsSync(join(cyrusBin, 'mupdate')) && existsSync(join(cyrusBin, 'imapd'));
}

/** Where a Cyrus murder member finds its MUPDATE master, and how it logs in (SASL PLAIN). */
export interface MupdateMaster {
  /** `HOST:PORT` */
  address: string;
  authname: string;
  password: string;
}

export type CyrusRole =
  | { kind: 'master' }
  | { kind: 'backend'; mupdate: MupdateMaster; servername?: string; pushOnStart?: boolean }
  | { kind: 'frontend'; mupdate: MupdateMaster; proxyAuthname?: string; proxyPassword?: string };

export interface CyrusInstance {
  role: CyrusRole['kind'];
  dir: string;
  /** Cyrus's `servername` (a backend's is also the server part of its mailboxes' locations). */
  servername: string;
  /** Loopback port of imapd (backend, frontend) or of the mupdate master. */
  port: number;
  /** `127.0.0.1:PORT` of the same. */
  address: string;
  /** Cyrus's syslog lines so far ('' when no shim could be built). */
  logs(): string;
  /** Resolves once a log line matches (rejects after `timeoutMs`, with the logs). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Runs a Cyrus tool (`ctl_mboxlist`, ...) as the cyrus user on this instance's config. */
  tool(name: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** The cyrus user and group ids (the package creates the user). */
function cyrusIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('cyrus:'));
  const fields = line?.split(':') ?? [];
  if (fields.length < 4) throw new Error('no cyrus user in /etc/passwd: install cyrus-common');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

let shimPath: string | null | undefined;

/** Builds the syslog shim once (kept in the temp directory, named by its source's hash); null without a compiler. */
function syslogShim(): string | null {
  if (shimPath !== undefined) return shimPath;
  const source = fileURLToPath(new URL('./cyrus-syslog-shim.c', import.meta.url));
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const target = join(tmpdir(), `mbdir-cyrus-syslog-shim-${hash}.so`);
  if (existsSync(target)) return (shimPath = target);
  const building = `${target}.${process.pid}`;
  try {
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', building, source], { stdio: 'ignore', timeout: 30_000 });
    renameSync(building, target);
    shimPath = target;
  } catch {
    shimPath = null;
  }
  return shimPath;
}

/** imapd.conf lines every role shares. */
function commonConfig(dir: string, servername: string): string[] {
  return [
    `configdirectory: ${dir}/conf`,
    'defaultpartition: default',
    `partition-default: ${dir}/spool`,
    `servername: ${servername}`,
    'admins: admin',
    'allowplaintext: yes',
    // Any password logs in: these tests check the directory, not Cyrus's SASL.
    'sasl_pwcheck_method: alwaystrue',
    'sasl_mech_list: PLAIN',
    `lmtpsocket: ${dir}/run/lmtp`,
    `idlesocket: ${dir}/run/idle`,
    `notifysocket: ${dir}/run/notify`,
    `syslog_prefix: mbdir-test-${servername}`,
    'unixhierarchysep: no',
    'altnamespace: no',
  ];
}

function mupdateConfig(mupdate: MupdateMaster): string[] {
  return [
    // Cyrus 3.6 ignores mupdate_port when mupdate_server carries ":PORT" (backend_connect splits it).
    `mupdate_server: ${mupdate.address}`,
    `mupdate_username: ${mupdate.authname}`,
    `mupdate_authname: ${mupdate.authname}`,
    `mupdate_password: ${mupdate.password}`,
    'mupdate_config: standard',
  ];
}

/** imapd.conf and cyrus.conf for one role. */
export function cyrusConfig(role: CyrusRole, dir: string, port: number): { imapd: string; cyrus: string; servername: string } {
  const conf = `${dir}/imapd.conf`;
  const recover = `recover cmd="${cyrusBin}/ctl_cyrusdb -C ${conf} -r"`;
  const imap = `imap cmd="${cyrusBin}/imapd -C ${conf}" listen="127.0.0.1:${port}" prefork=0`;
  let servername: string;
  let lines: string[];
  const start = [recover];
  const services: string[] = [];
  if (role.kind === 'master') {
    servername = 'mupdate-master';
    lines = commonConfig(dir, servername);
    services.push(`mupdate cmd="${cyrusBin}/mupdate -C ${conf} -m" listen="127.0.0.1:${port}" prefork=1`);
  } else if (role.kind === 'backend') {
    // A frontend dials the server part of a location as host[:port] (imap/backend.c), so on one
    // host a backend's servername carries its port.
    servername = role.servername ?? `127.0.0.1:${port}`;
    lines = [...commonConfig(dir, servername), ...mupdateConfig(role.mupdate), 'proxyservers: admin', 'allowusermoves: yes'];
    if (role.pushOnStart === true) start.push(`mupdatepush cmd="${cyrusBin}/ctl_mboxlist -C ${conf} -m"`);
    services.push(imap);
  } else {
    servername = 'frontend1';
    lines = [
      ...commonConfig(dir, servername),
      ...mupdateConfig(role.mupdate),
      `proxy_authname: ${role.proxyAuthname ?? 'admin'}`,
      `proxy_password: ${role.proxyPassword ?? 'pw'}`,
    ];
    // The slave listens only for the local imapd's kicks and reads.
    services.push(`mupdate cmd="${cyrusBin}/mupdate -C ${conf}" listen="${dir}/run/mupdate.sock" prefork=1`, imap);
  }
  const cyrus = `START {\n  ${start.join('\n  ')}\n}\nSERVICES {\n  ${services.join('\n  ')}\n}\nEVENTS {\n}\nDAEMON {\n}\n`;
  return { imapd: `${lines.join('\n')}\n`, cyrus, servername };
}

/** Resolves once `port` answers with a greeting line matching `banner`. */
async function waitForBanner(port: number, banner: RegExp, deadline: number, why: () => string): Promise<void> {
  for (;;) {
    const seen = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      let text = '';
      const done = (): void => {
        socket.destroy();
        resolve(text);
      };
      socket.setTimeout(1_000, done);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (banner.test(text)) done();
      });
      socket.on('error', done);
      socket.on('close', done);
    });
    if (banner.test(seen)) return;
    if (Date.now() > deadline) throw new Error(`Cyrus on port ${port} did not greet within ${cyrusStartMsMax} ms\n${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/**
 * Creates a Cyrus instance of `role` in a fresh directory and starts its master, on `options.port`
 * when given (a backend's servername carries its port, so a test may need it before the start).
 */
export async function startCyrus(role: CyrusRole, options: { port?: number } = {}): Promise<CyrusInstance> {
  const { uid, gid } = cyrusIds();
  const dir = mkdtempSync(join(tmpdir(), 'mbdir-cyrus-'));
  const port = options.port ?? (await freePort());
  const config = cyrusConfig(role, dir, port);
  for (const sub of ['conf/db', 'conf/socket', 'conf/proc', 'conf/lock', 'conf/log', 'conf/sieve', 'spool', 'run']) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  writeFileSync(join(dir, 'imapd.conf'), config.imapd);
  writeFileSync(join(dir, 'cyrus.conf'), config.cyrus);
  const logFile = join(dir, 'syslog.txt');
  writeFileSync(logFile, '');
  chownTree(dir, uid, gid);
  const shim = syslogShim();
  const env: NodeJS.ProcessEnv = { ...process.env, ...(shim === null ? {} : { LD_PRELOAD: shim, CYRUS_LOG_FILE: logFile }) };
  let output = '';
  const master: ChildProcess = spawn(
    join(cyrusBin, 'master'),
    ['-C', join(dir, 'imapd.conf'), '-M', join(dir, 'cyrus.conf'), '-p', join(dir, 'run', 'master.pid'), '-D'],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  master.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  master.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const logs = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const why = (): string => `master output: ${output}\nCyrus log:\n${tail(logs())}`;
  const instance = makeInstance(role, dir, port, config.servername, master, { env, uid, gid, logs, why });
  try {
    const banner = role.kind === 'master' ? /\* OK MUPDATE/ : /\* OK /;
    await waitForBanner(port, banner, Date.now() + cyrusStartMsMax, why);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  return instance;
}

interface InstanceContext {
  env: NodeJS.ProcessEnv;
  uid: number;
  gid: number;
  logs: () => string;
  why: () => string;
}

function makeInstance(role: CyrusRole, dir: string, port: number, servername: string, master: ChildProcess, context: InstanceContext): CyrusInstance {
  return {
    role: role.kind,
    dir,
    servername,
    port,
    address: `127.0.0.1:${port}`,
    logs: context.logs,
    async waitForLog(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(context.logs())) {
        if (Date.now() > deadline) throw new Error(`no Cyrus log line matched ${String(pattern)} in ${timeoutMs} ms\n${context.why()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    tool(name, args) {
      return runTool(join(cyrusBin, name), ['-C', join(dir, 'imapd.conf'), ...args], context);
    },
    async stop() {
      await stopGroup(master);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runTool(path: string, args: string[], context: InstanceContext): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(path, args, { env: context.env, uid: context.uid, gid: context.gid, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), cyrusToolMsMax);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** SIGTERM to the master's process group (it stops its children), SIGKILL if it lingers. */
async function stopGroup(master: ChildProcess): Promise<void> {
  const pid = master.pid;
  if (pid === undefined) return;
  const exited = master.exitCode !== null || master.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => master.once('exit', () => resolve()));
  signalGroup(pid, 'SIGTERM');
  const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), cyrusStopMsMax));
  if ((await Promise.race([exited.then(() => 'done' as const), timer])) === 'late') signalGroup(pid, 'SIGKILL');
  await exited;
  // Children the master left behind (it waits for them, but a hung one would outlive it).
  signalGroup(pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function chownTree(path: string, uid: number, gid: number): void {
  const pending = [path];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    chownSync(current, uid, gid);
    if (statSync(current).isDirectory()) for (const entry of readdirSync(current)) pending.push(join(current, entry));
  }
}

function tail(text: string, lines = 40): string {
  return text
    .split('\n')
    .filter((line) => !/SQL backend defaulting|zoneinfo_dir|found \d+ timezones|worker thread/.test(line))
    .slice(-lines)
    .join('\n');
}
