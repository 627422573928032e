/**
 * The bench's seeded directory generator: servers, businesses (each with a home
 * server), users in businesses with a root and F-1 folders on their server
 * (mostly the business's home), a share of folders shared with a colleague or
 * with the business's group, and a fixed set of public folders shared with
 * `anyone`. The same seed and shape give the same directory, so runs compare.
 * Shared-with-anyone folders do not grow with N: real directories have a few
 * public folders, and LIST reads all of them for every caller.
 * generateDirectory writes the shape into a stopped node's data directory or
 * through a running node's API.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MbdirClient } from '../../src/client/client.js';
import type { Change, MailboxRecord, ServerRecord } from '../../src/model/records.js';
import { ApiSink, DataDirSink, type MailboxSink } from '../cli/mailbox-sinks.js';
import { progress } from './report.js';
import { randomBelow, seededRandom } from './stats.js';

export interface DirectoryShape {
  users: number;
  foldersPerUser: number;
  businesses: number;
  servers: number;
  /** Share (0..1) of folders shared with another user of the same business. */
  userShareRate: number;
  /** Share (0..1) of folders shared with the business's group. */
  groupShareRate: number;
  /** Public folders `shared.public.<k>` readable by `anyone`. */
  publicFolders: number;
  seed: number;
}

export const defaultShape: DirectoryShape = {
  users: 5000,
  foldersPerUser: 20,
  businesses: 50,
  servers: 5,
  userShareRate: 0.05,
  groupShareRate: 0.01,
  publicFolders: 20,
  seed: 1,
};

const ownerRights = 'lrswipkxtecdan';
const readerRights = 'lrs';
const baseFolders = ['Sent', 'Drafts', 'Trash', 'Junk', 'Archive', 'Notes', 'Templates', 'Projects', 'Clients', 'Travel'];

export function userId(index: number): string {
  return `u${String(index).padStart(7, '0')}`;
}

export function serverName(index: number): string {
  return `backend${index + 1}`;
}

export function businessOf(shape: DirectoryShape, userIndex: number): number {
  return userIndex % shape.businesses;
}

export function groupOf(business: number): string {
  return `group:b${business}`;
}

/** Folder names (below the root) of every user: realistic, then numbered. */
export function folderNames(foldersPerUser: number): string[] {
  const names: string[] = [];
  for (let index = 0; names.length < foldersPerUser - 1; index += 1) {
    const base = baseFolders[index];
    if (base !== undefined) names.push(base);
    else if (index < baseFolders.length + 6) names.push(`Archive.${2014 + index - baseFolders.length}`);
    else names.push(`Projects.p${index}`);
  }
  return names;
}

function uniqueidFrom(random: () => number): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let index = 0; index < 24; index += 1) out += alphabet[randomBelow(random, alphabet.length)];
  return out;
}

/** Servers, businesses and users of the shape, as changes. */
export function generatePlacement(shape: DirectoryShape): Change[] {
  const changes: Change[] = [];
  for (let index = 0; index < shape.servers; index += 1) {
    const server: ServerRecord = {
      name: serverName(index),
      imapAddress: `10.0.${index >> 8}.${(index & 255) + 1}:143`,
      lmtpAddress: `10.0.${index >> 8}.${(index & 255) + 1}:24`,
      pop3Address: `10.0.${index >> 8}.${(index & 255) + 1}:110`,
      state: 'UP',
      weight: 1,
      datacenter: `dc${index % 2}`,
    };
    changes.push({ kind: 'server.put', server });
  }
  for (let index = 0; index < shape.businesses; index += 1) {
    changes.push({ kind: 'business.put', business: { id: `b${index}`, homeServer: serverName(index % shape.servers) } });
  }
  for (let index = 0; index < shape.users; index += 1) {
    const user = { user: userId(index), business: `b${businessOf(shape, index)}`, movingFrom: '', movingTo: '', movingSinceMs: 0 };
    changes.push({ kind: 'user.put', user });
  }
  return changes;
}

/** Every mailbox of the shape in a seeded order: public folders, then user by user. */
export function* generateMailboxes(shape: DirectoryShape): Generator<MailboxRecord> {
  const random = seededRandom(shape.seed);
  const mailbox = (name: string, server: string, acl: MailboxRecord['acl']): MailboxRecord => ({
    uniqueid: uniqueidFrom(random),
    name,
    server,
    partition: 'default',
    replicas: [],
    acl,
    mbtype: 'e',
    state: 'ACTIVE',
    uidvalidity: 1_700_000_000 + randomBelow(random, 100_000_000),
    createdmodseq: 1,
    foldermodseq: 1 + randomBelow(random, 1000),
    revision: 0,
    nameHistory: [],
    reservedUntilMs: 0,
    requestId: '',
  });
  for (let index = 0; index < shape.publicFolders; index += 1) {
    yield mailbox(`shared.public.f${index}`, serverName(index % shape.servers), [{ identifier: 'anyone', rights: readerRights }]);
  }
  const folders = folderNames(shape.foldersPerUser);
  const usersPerBusiness = Math.max(1, Math.ceil(shape.users / shape.businesses));
  for (let index = 0; index < shape.users; index += 1) {
    const business = businessOf(shape, index);
    const home = business % shape.servers;
    const server = serverName(random() < 0.9 ? home : randomBelow(random, shape.servers));
    const user = userId(index);
    yield mailbox(`user.${user}`, server, [{ identifier: user, rights: ownerRights }]);
    for (const folder of folders) {
      const acl = [{ identifier: user, rights: ownerRights }];
      if (random() < shape.userShareRate) {
        const colleague = business + shape.businesses * randomBelow(random, usersPerBusiness);
        if (colleague !== index && colleague < shape.users) acl.push({ identifier: userId(colleague), rights: readerRights });
      }
      if (random() < shape.groupShareRate) acl.push({ identifier: groupOf(business), rights: readerRights });
      yield mailbox(`user.${user}.${folder}`, server, acl);
    }
  }
}

/** Mailboxes of the shape in total. */
export function mailboxTotal(shape: DirectoryShape): number {
  return shape.publicFolders + shape.users * shape.foldersPerUser;
}

/** The shape of a generated directory, kept beside its database. */
export const shapeFileName = 'bench-shape.json';

async function putPlacementThroughApi(client: MbdirClient, shape: DirectoryShape): Promise<void> {
  for (const change of generatePlacement(shape)) {
    if (change.kind === 'server.put') {
      const server = change.server;
      await client.putServer({ name: server.name, imap_address: server.imapAddress, lmtp_address: server.lmtpAddress, pop3_address: server.pop3Address, state: 'UP', weight: 1, datacenter: server.datacenter });
    } else if (change.kind === 'business.put') {
      await client.putBusiness({ id: change.business.id, home_server: change.business.homeServer });
    } else if (change.kind === 'user.put') {
      await client.setUserBusiness({ user: change.user.user, business: change.user.business });
    }
  }
}

/** Generates the shape into a data directory or a running node; returns mailboxes/s. */
export async function generateDirectory(shape: DirectoryShape, target: { dataDir?: string; client?: MbdirClient }): Promise<number> {
  let sink: MailboxSink;
  if (target.dataDir !== undefined) {
    const dataSink = new DataDirSink(target.dataDir, 'NORMAL', false);
    if (dataSink.store.mailboxCount() > 0) {
      await dataSink.finish();
      throw new Error(`${target.dataDir} already holds mailboxes: generate into an empty data directory`);
    }
    dataSink.applyOthers(generatePlacement(shape));
    sink = dataSink;
    writeFileSync(join(target.dataDir, shapeFileName), `${JSON.stringify(shape)}\n`);
  } else if (target.client !== undefined) {
    await putPlacementThroughApi(target.client, shape);
    sink = new ApiSink(target.client);
  } else {
    throw new Error('generate needs --data-dir or --endpoint');
  }
  const total = mailboxTotal(shape);
  const bar = progress('generate', total);
  const startedMs = performance.now();
  let count = 0;
  for (const mailbox of generateMailboxes(shape)) {
    await sink.add(mailbox);
    count += 1;
    if (bar !== null && count % 10_000 === 0) bar.update(count);
  }
  await sink.finish();
  bar?.stop();
  const rate = Math.round(count / ((performance.now() - startedMs) / 1000));
  process.stderr.write(`generated ${count} mailboxes (${shape.users} users x ${shape.foldersPerUser}) at ${rate}/s\n`);
  return rate;
}
