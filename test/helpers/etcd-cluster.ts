/**
 * Starts a real etcd cluster (Debian's etcd-server binary) of N members on
 * free loopback ports in a temporary directory, and stops it. Members can be
 * killed (SIGKILL) and restarted on their data directory, to test failures.
 * Every process started here is stopped by `stop()`, also after a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess | undefined;
}

/** A free loopback port (the OS picks it; closed again before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Client TLS for the members (PEM files): their certificate and key, the CA
 * whose client certificates they require (--client-cert-auth), and a client
 * certificate of that CA that this helper uses for its own status calls.
 */
export interface EtcdTlsFiles {
  cert: string;
  key: string;
  clientCa: string;
  helperCert: string;
  helperKey: string;
}

export class EtcdCluster {
  private constructor(
    readonly members: EtcdMember[],
    private readonly root: string,
    private readonly initialCluster: string,
    private readonly tls: EtcdTlsFiles | undefined,
  ) {}

  static async start(size = 3, options: { tls?: EtcdTlsFiles } = {}): Promise<EtcdCluster> {
    const root = mkdtempSync(join(tmpdir(), 'mbdir-etcd-'));
    const members: EtcdMember[] = [];
    for (let index = 0; index < size; index += 1) {
      const name = `etcd${index}`;
      members.push({
        name,
        clientUrl: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: join(root, name),
        process: undefined,
      });
    }
    const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
    const cluster = new EtcdCluster(members, root, initialCluster, options.tls);
    try {
      for (let index = 0; index < size; index += 1) cluster.startMember(index);
      await cluster.waitHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Client URLs, comma-separated, as `--etcd-endpoints` takes them. */
  endpoints(): string {
    return this.members.map((member) => member.clientUrl).join(',');
  }

  startMember(index: number): void {
    const member = this.members[index];
    if (member === undefined) throw new Error(`no etcd member ${index}`);
    const child = spawn(
      'etcd',
      [
        '--name', member.name,
        '--data-dir', member.dataDir,
        '--listen-client-urls', member.clientUrl,
        '--advertise-client-urls', member.clientUrl,
        '--listen-peer-urls', member.peerUrl,
        '--initial-advertise-peer-urls', member.peerUrl,
        '--initial-cluster', this.initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', 'mbdir-test',
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
        '--log-level', 'error',
        ...(this.tls === undefined
          ? []
          : ['--cert-file', this.tls.cert, '--key-file', this.tls.key, '--client-cert-auth', '--trusted-ca-file', this.tls.clientCa]),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.resume();
    member.process = child;
  }

  /** SIGKILLs one member and waits until it is gone. */
  async kill(index: number): Promise<void> {
    const child = this.members[index]?.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    const member = this.members[index];
    if (member !== undefined) member.process = undefined;
  }

  /** Index of the member that is leader now (asks etcd's HTTP /v3 maintenance status of each). */
  async leader(): Promise<number> {
    for (let index = 0; index < this.members.length; index += 1) {
      const status = await this.memberStatus(index);
      if (status !== undefined && status.leader !== undefined && status.leader === status.header?.member_id) return index;
    }
    return -1;
  }

  private async memberStatus(index: number): Promise<{ leader?: string; header?: { member_id?: string } } | undefined> {
    const member = this.members[index];
    if (member?.process === undefined) return undefined;
    try {
      const url = `${member.clientUrl}/v3/maintenance/status`;
      const body = this.tls === undefined
        ? await (await fetch(url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) })).text()
        : await this.postWithClientCertificate(url, '{}');
      return JSON.parse(body) as { leader?: string; header?: { member_id?: string } };
    } catch {
      return undefined;
    }
  }

  /** POSTs to a member that requires client certificates (fetch cannot present one). */
  private postWithClientCertificate(url: string, body: string): Promise<string> {
    const tls = this.tls;
    if (tls === undefined) throw new Error('no TLS files');
    return new Promise((resolve, reject) => {
      const sent = request(
        url,
        { method: 'POST', ca: readFileSync(tls.clientCa), cert: readFileSync(tls.helperCert), key: readFileSync(tls.helperKey), timeout: 1000 },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve(text));
          response.on('error', reject);
        },
      );
      sent.on('timeout', () => sent.destroy(new Error('timed out')));
      sent.on('error', reject);
      sent.end(body);
    });
  }

  /** Waits until a leader is elected (bounded). */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if ((await this.leader()) >= 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('etcd cluster did not elect a leader in time');
  }

  /** Compacts etcd history at `revision` (through the HTTP gateway). */
  async compact(revision: number): Promise<void> {
    const member = this.plaintextMember();
    const response = await fetch(`${member.clientUrl}/v3/kv/compaction`, {
      method: 'POST',
      body: JSON.stringify({ revision: String(revision), physical: true }),
    });
    if (!response.ok) throw new Error(`compaction failed: ${await response.text()}`);
  }

  /** True when etcd refuses to read at `revision` because history before it was compacted. */
  async isCompacted(revision: number): Promise<boolean> {
    const member = this.plaintextMember();
    const response = await fetch(`${member.clientUrl}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('/').toString('base64'), revision: String(revision) }),
    });
    return /compacted/.test(await response.text());
  }

  /** The current etcd revision. */
  async revision(): Promise<number> {
    const member = this.plaintextMember();
    const response = await fetch(`${member.clientUrl}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
    });
    const body = (await response.json()) as { header: { revision: string } };
    return Number(body.header.revision);
  }

  /** The database file of member `index`: its size and the part in use (etcd's Status dbSize, dbSizeInUse). */
  async database(index: number): Promise<{ dbSize: number; dbSizeInUse: number }> {
    const member = this.members[index];
    if (member?.process === undefined || this.tls !== undefined) throw new Error(`etcd member ${index} is not running plaintext`);
    const response = await fetch(`${member.clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { dbSize?: string; dbSizeInUse?: string };
    return { dbSize: Number(body.dbSize ?? 0), dbSizeInUse: Number(body.dbSizeInUse ?? 0) };
  }

  /** How many keys etcd holds under `prefix` now. */
  async keyCount(prefix: string): Promise<number> {
    const member = this.plaintextMember();
    const end = Buffer.from(prefix);
    end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
    const response = await fetch(`${member.clientUrl}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from(prefix).toString('base64'), range_end: end.toString('base64'), count_only: true }),
    });
    const body = (await response.json()) as { count?: string };
    return Number(body.count ?? 0);
  }

  /** The value of one key as text, or undefined. */
  async get(key: string): Promise<string | undefined> {
    const member = this.plaintextMember();
    const response = await fetch(`${member.clientUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(key).toString('base64') }) });
    const body = (await response.json()) as { kvs?: Array<{ value?: string }> };
    const value = body.kvs?.[0]?.value;
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
  }

  /** A running member for the HTTP gateway calls above, which speak plaintext only. */
  private plaintextMember(): EtcdMember {
    if (this.tls !== undefined) throw new Error('compact, isCompacted and revision speak plaintext: not for a TLS cluster');
    const member = this.members.find((candidate) => candidate.process !== undefined);
    if (member === undefined) throw new Error('no etcd member running');
    return member;
  }

  async stop(): Promise<void> {
    for (let index = 0; index < this.members.length; index += 1) await this.kill(index);
    rmSync(this.root, { recursive: true, force: true });
  }
}
