/**
 * Test certificates made with openssl in a directory of the caller's: a CA
 * (ca.crt, ca.key), then certificates it signs for a subject with the
 * extensions given (a server's subjectAltName, a client's clientAuth).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** Writes ca.crt and ca.key into `directory`, valid two days. */
export function makeCa(directory: string, subject: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(directory, 'ca.key'), '-out', join(directory, 'ca.crt'), '-days', '2', '-subj', subject]);
}

/** Writes NAME.crt and NAME.key into `directory`, signed by its CA (makeCa first). */
export function makeCertificate(directory: string, name: string, subject: string, extensions: string): void {
  const path = (file: string): string => join(directory, file);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', path(`${name}.key`), '-subj', subject, '-out', path(`${name}.csr`)]);
  writeFileSync(path(`${name}.ext`), extensions);
  openssl(['x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial', '-days', '2', '-out', path(`${name}.crt`), '-extfile', path(`${name}.ext`)]);
}
