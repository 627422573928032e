/**
 * `mbdir backup` and `mbdir restore`. backup takes a consistent online copy of
 * a node's database, from its data directory (this process runs SQLite's
 * online backup against the file a node may be serving) or through
 * `--endpoint` (the admin-only Backup stream), into `--out`, written beside
 * it first and renamed once whole and checked. restore checks a backup and
 * installs it (src/store/backup.ts). Neither overwrites a file it did not make.
 */
import type { Command } from 'commander';
import { chmodSync, createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { ClientError } from '../../src/client/client.js';
import { backupDataDirectory, installBackup, readBackupFacts, type BackupFacts } from '../../src/store/offline.js';
import { clientFromCommand, type GlobalOptions } from './global-options.js';

function report(command: Command, facts: BackupFacts, text: string): void {
  if (command.optsWithGlobals<GlobalOptions>().json === true) process.stdout.write(`${JSON.stringify(facts)}\n`);
  else process.stdout.write(`${text}\n`);
}

/** Streams the node's Backup into `partial`; checks the size it announced. */
async function backupThroughEndpoint(command: Command, partial: string): Promise<void> {
  const client = clientFromCommand(command);
  const out = createWriteStream(partial, { flags: 'wx' });
  let announced = -1;
  let written = 0;
  try {
    for await (const message of client.backup()) {
      if (announced < 0) {
        announced = message.total_bytes;
        continue;
      }
      const data = message.data;
      written += data.length;
      if (!out.write(data)) await once(out, 'drain');
    }
  } catch (error) {
    if (error instanceof ClientError) throw new Error(`backup through ${command.optsWithGlobals<GlobalOptions>().endpoint} failed: ${error.codeName}: ${error.details}`);
    throw error;
  } finally {
    client.close();
    out.end();
    await once(out, 'close');
  }
  if (announced < 0 || written !== announced) throw new Error(`backup stream ended after ${written} of ${announced} bytes; nothing written`);
}

export function addBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('a consistent online copy of a node\'s database, with its revision (the node keeps serving)')
    .option('--data-dir <dir>', 'copy from this data directory on this machine, instead of through --endpoint (admin token)')
    .requiredOption('--out <file>', 'where to write the backup (must not exist)')
    .action(async (options: { dataDir?: string; out: string }, command: Command) => {
      if (existsSync(options.out)) throw new Error(`--out ${options.out} exists; remove it or choose another file`);
      const partial = `${options.out}.partial`;
      rmSync(partial, { force: true });
      try {
        if (options.dataDir !== undefined) await backupDataDirectory(options.dataDir, partial);
        else await backupThroughEndpoint(command, partial);
        chmodSync(partial, 0o600); // the whole directory: as private as the data directory
        const facts = readBackupFacts(partial, true);
        renameSync(partial, options.out);
        report(command, facts, `backed up revision ${facts.revision} (${facts.mailboxes} mailboxes, ${facts.bytes} bytes, schema ${facts.schemaVersion}) to ${options.out}`);
      } finally {
        rmSync(partial, { force: true });
      }
    });

  program
    .command('restore')
    .description('check a backup and install it as a data directory\'s database (the node must be stopped)')
    .argument('<file>', 'a file written by mbdir backup')
    .requiredOption('--data-dir <dir>', 'the data directory to install into (absent or empty)')
    .option('--force', 'replace the database of a non-empty data directory (never one a node has open)')
    .action((file: string, options: { dataDir: string; force?: boolean }, command: Command) => {
      const facts = installBackup(file, options.dataDir, options.force === true);
      report(command, facts, `restored revision ${facts.revision} (${facts.mailboxes} mailboxes) into ${options.dataDir}; start the node with --data-dir ${options.dataDir}`);
    });
}
