/**
 * Wiring shared by the Cyrus murder interop suites: the principals a murder
 * needs in mbdir's token file (an admin for the test's own gRPC checks, the
 * backend as `backend:SERVER`, the frontend's mupdate slave as `proxy`), the
 * MUPDATE address a node printed, and reading a mailbox record back over gRPC
 * in the shape a test compares. Nothing here starts or keeps a process.
 */
import { expect } from 'vitest';
import { ClientError, type MbdirClient } from '../../src/client/client.js';
import type { MupdateMaster } from './cyrus.js';
import { runCli, type ServerProcess } from './server-process.js';

export interface MurderTokens {
  admin: string;
  backend: string;
  proxy: string;
}

/** Adds the murder's principals to `tokenFile`; the backend's is `backend:<servername>`. */
export async function addMurderTokens(tokenFile: string, backendServername: string): Promise<MurderTokens> {
  const add = async (name: string, role: string): Promise<string> => {
    const result = await runCli(['token', 'add', '--tokens', tokenFile, '--name', name, '--role', role]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.trim();
  };
  return {
    admin: await add('ops', 'admin'),
    backend: await add('backend1', `backend:${backendServername}`),
    proxy: await add('frontend1', 'proxy'),
  };
}

/** How a Cyrus member logs in to a node's MUPDATE listener. */
export function mupdateOf(node: ServerProcess, authname: string, password: string): MupdateMaster {
  const address = node.served.get('MUPDATE');
  if (address === undefined) throw new Error(`the node printed no "serving MUPDATE on" line: ${node.stderr()}`);
  return { address, authname, password };
}

/** A mailbox as a test compares it: server, partition and ACL as Cyrus writes it (`id\trights\t`...); null if absent. */
export async function recordOf(client: MbdirClient, name: string): Promise<{ server: string; partition: string; acl: string } | null> {
  try {
    const mailbox = (await client.getMailbox({ name })).mailbox;
    if (mailbox === null) return null;
    const acl = mailbox.acl.map((entry) => `${entry.identifier}\t${entry.rights}\t`).join('');
    return { server: mailbox.server, partition: mailbox.partition, acl };
  } catch (error) {
    if (error instanceof ClientError && error.codeName === 'NOT_FOUND') return null;
    throw error;
  }
}

/** Names of mbdir's mailboxes under `prefix`, in its order. */
export async function namesUnder(client: MbdirClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const mailbox of client.scanMailboxes({ prefix })) names.push(mailbox.name);
  return names;
}
