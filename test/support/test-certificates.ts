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
