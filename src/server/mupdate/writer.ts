/**
 * MUPDATE responses as Cyrus's master writes them: strings as literals in the
 * configured style (`{n+}`, Cyrus's own, or `{n}`, which 3.4.8, 3.6.5 and
 * 3.8.3 clients need: they reject `{n+}`), OK/NO/BAD texts always quoted (a
 * Cyrus client rejects a bare text). Pure: it builds strings, the session
 * writes them. Never puts a DELETE in a dump; that is the caller's contract.
 */
import { formatAclText, type AclEntry } from '../../model/acl.js';

export type LiteralStyle = 'plus' | 'sync';

export const literalStyles: readonly LiteralStyle[] = ['plus', 'sync'];

/** A response text as a quoted string: `"` and `\` escaped, line breaks and other controls dropped. */
export function quotedText(text: string): string {
  return `"${text.replace(/[\x00-\x1f\x7f]/g, ' ').replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

export interface MailboxLine {
  name: string;
  server: string;
  partition: string;
  acl: readonly AclEntry[];
  state: 'RESERVED' | 'ACTIVE';
}

export class ResponseWriter {
  private readonly marker: string;

  constructor(readonly style: LiteralStyle) {
    this.marker = style === 'plus' ? '+}\r\n' : '}\r\n';
  }

  /** One string argument as a literal of the configured style. */
  string(value: string): string {
    return `{${Buffer.byteLength(value, 'utf8')}${this.marker}${value}`;
  }

  /** `* AUTH`, `* PARTIAL-UPDATE` and the `* OK MUPDATE` line Cyrus clients read at connect. */
  banner(host: string, version: string): string {
    return `* AUTH "PLAIN"\r\n* PARTIAL-UPDATE\r\n* OK MUPDATE ${quotedText(host)} "mbdir" ${quotedText(version)} "(master)"\r\n`;
  }

  ok(tag: string, text: string): string {
    return `${tag} OK ${quotedText(text)}\r\n`;
  }

  no(tag: string, text: string): string {
    return `${tag} NO ${quotedText(text)}\r\n`;
  }

  bad(tag: string, text: string): string {
    return `${tag} BAD ${quotedText(text)}\r\n`;
  }

  /** `MAILBOX name location acl` for an active mailbox, `RESERVE name location` for a reserved one. */
  mailbox(tag: string, mailbox: MailboxLine): string {
    const location = this.string(`${mailbox.server}!${mailbox.partition}`);
    if (mailbox.state === 'RESERVED') return `${tag} RESERVE ${this.string(mailbox.name)} ${location}\r\n`;
    return `${tag} MAILBOX ${this.string(mailbox.name)} ${location} ${this.string(formatAclText(mailbox.acl))}\r\n`;
  }

  /** `DELETE name`: a live UPDATE change only, never inside a dump. */
  deleted(tag: string, name: string): string {
    return `${tag} DELETE ${this.string(name)}\r\n`;
  }
}
