/**
 * A lock file beside the lease file, so that two pxekit processes never append to one log (each
 * would hand out addresses the other does not see). It holds the owner's pid; a lock whose process
 * is gone (a `kill -9`) is taken over.
 */
import { promises as fsp } from 'node:fs';
import { PxeError } from 'pxekit';

export async function acquireLock(file: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fsp.writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt((await fsp.readFile(file, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new PxeError('PXE_ERR_LEASE_STORE', `lease file is in use by process ${pid} (lock ${file})`, {
        fix:
          'run one pxekit per lease file (for several instances use a shared store such as ' +
          'lease-redis); remove the lock only if that process is not pxekit',
        details: { lock: file, pid },
      });
    }
    await fsp.rm(file, { force: true }); // stale: its owner is gone
  }
  throw new PxeError('PXE_ERR_LEASE_STORE', `could not take the lock ${file}`, {
    fix: 'another process keeps creating it; run one pxekit per lease file',
  });
}

export async function releaseLock(file: string): Promise<void> {
  const pid = Number.parseInt((await fsp.readFile(file, 'utf8').catch(() => '')).trim(), 10);
  if (pid === process.pid) await fsp.rm(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
