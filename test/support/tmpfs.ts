import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small tmpfs mounted for one test: a real file system that fills up and can be made read-only. */
export interface Tmpfs {
  readonly dir: string;
  /** Takes every free byte with a filler file, so the next write that needs space fails with ENOSPC. */
  fill(): void;
  /** Removes the filler file. */
  free(): void;
  /** Remounts read-only (root ignores file modes, not a read-only mount). */
  readOnly(): void;
  unmount(): void;
}

const run = (cmd: string, args: string[]): void => void execFileSync(cmd, args, { stdio: 'pipe' });

/**
 * Whether this process can mount a tmpfs (root with CAP_SYS_ADMIN). Tests that need one are skipped
 * elsewhere, but under CI (`CI` set) they run and fail: CI runs as root, so a failure there is a real one.
 */
export const canMountTmpfs: boolean = (() => {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'lookout-mount-probe-'));
    run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    run('umount', [dir]);
    return true;
  } catch {
    return false;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
})();

/** Whether tests that need a tmpfs run here (they do under CI, where not being able to mount fails them). */
export const tmpfsTestsRun: boolean = canMountTmpfs || Boolean(process.env.CI);

/** Mounts a tmpfs of `size` (`512k`) on a new temp directory; call `unmount` in the test's cleanup. */
export function mountTmpfs(size: string): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-tmpfs-'));
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  } catch (err) {
    rmdirSync(dir);
    throw new Error(`cannot mount a tmpfs on ${dir} (these tests need root): ${String(err)}`, { cause: err });
  }
  const filler = join(dir, 'filler');
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      // The last partial page: single bytes until none fits.
      const tail = openSync(filler, 'a');
      try {
        for (;;) writeSync(tail, Buffer.alloc(1, 1));
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(tail);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    readOnly() {
      run('mount', ['-o', 'remount,ro', dir]);
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      try {
        run('umount', [dir]);
      } catch {
        // Still busy (a handle the code under test leaked): detach it anyway, and say so.
        run('umount', ['-l', dir]);
        rmdirSync(dir);
        throw new Error(`${dir} was still in use at unmount: a file handle was left open`);
      }
      rmdirSync(dir);
    },
  };
}
