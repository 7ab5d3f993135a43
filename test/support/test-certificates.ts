import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM key and certificate pairs made for one test file; `dispose` removes their temp dir. */
export interface TestCertificates {
  /** A self-signed CA certificate and its key (served on its own it is a self-signed server certificate). */
  ca: { key: string; cert: string };
  /** A server certificate for IP 127.0.0.1, signed by `ca`. */
  server: { key: string; cert: string };
  dispose(): void;
}

/** Whether the `openssl` command line tool can be run here. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Makes a throwaway CA and a 127.0.0.1 server certificate with `openssl` (EC keys: fast). */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-tls-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl('req', '-x509', ...ecKey, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '2', '-subj', '/CN=Lookout Test CA');
    openssl('req', ...ecKey, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=127.0.0.1');
    writeFileSync(path('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
    openssl(
      'x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial',
      '-out', path('server.crt'), '-days', '1', '-extfile', path('server.ext'),
    );
    const read = (name: string): string => readFileSync(path(name), 'utf8');
    return {
      ca: { key: read('ca.key'), cert: read('ca.crt') },
      server: { key: read('server.key'), cert: read('server.crt') },
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** How long a certificate from `issueServerCertificate` is valid: days from now, or fixed instants. */
export type CertificateValidity = { days: number } | { notBefore: Date; notAfter: Date };

/** `openssl ca` time format: YYYYMMDDHHMMSSZ (UTC). */
function opensslTime(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/**
 * Signs another 127.0.0.1 server certificate with `ca` (from `createTestCertificates`), valid for `validity`.
 * Fixed instants make certificates that expired long ago: `openssl ca -startdate/-enddate` sets any dates,
 * while `x509 -req` before OpenSSL 3.4 only counts days from now (its `-not_before/-not_after` are 3.4+).
 */
export function issueServerCertificate(ca: { key: string; cert: string }, validity: CertificateValidity): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-tls-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  try {
    writeFileSync(path('ca.key'), ca.key);
    writeFileSync(path('ca.crt'), ca.cert);
    writeFileSync(path('index.txt'), '');
    // The smallest config `openssl ca` accepts: its database files, any subject, and our leaf extensions.
    writeFileSync(
      path('ca.cnf'),
      [
        '[ca]', 'default_ca = test_ca',
        '[test_ca]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'default_md = sha256',
        'policy = any_subject', 'unique_subject = no',
        '[any_subject]', 'commonName = supplied',
        '[leaf]', 'subjectAltName = IP:127.0.0.1', 'basicConstraints = CA:FALSE',
        '',
      ].join('\n'),
    );
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=127.0.0.1');
    const dates = 'days' in validity
      ? ['-days', String(validity.days)]
      : ['-startdate', opensslTime(validity.notBefore), '-enddate', opensslTime(validity.notAfter)];
    openssl(
      'ca', '-batch', '-notext', '-create_serial', '-config', path('ca.cnf'), '-extensions', 'leaf',
      '-cert', path('ca.crt'), '-keyfile', path('ca.key'), '-in', path('server.csr'), '-out', path('server.crt'), ...dates,
    );
    return { key: readFileSync(path('server.key'), 'utf8'), cert: readFileSync(path('server.crt'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
