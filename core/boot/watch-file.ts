import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

export interface FileWatcher {
  /** Stops watching; idempotent. */
  close(): void;
}

export interface WatchFileOptions {
  /** Stat poll interval, the fallback for file systems where fs.watch misses changes (NFS, some containers). */
  pollMs?: number;
  /** Changes within this window are reported once (editors write in several steps). */
  debounceMs?: number;
  log?: Logger;
}

/**
 * Calls `onChange` when a file's content may have changed: fs.watch on its folder (so an atomic
 * rename-over by an editor or `pxekit intent` is seen) plus a stat poll comparing mtime, size and inode.
 * Timers are unref'd so a watcher never keeps the process alive; `onChange` errors are logged.
 */
export function watchFile(
  file: string,
  onChange: () => void | Promise<void>,
  opts: WatchFileOptions = {},
): FileWatcher {
  const pollMs = opts.pollMs ?? 2000;
  const debounceMs = opts.debounceMs ?? 50;
  let closed = false;
  let last: string | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;

  const signature = async (): Promise<string> => {
    try {
      const st = await stat(file);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return 'missing';
    }
  };
  const check = async () => {
    if (closed) return;
    const sig = await signature();
    if (closed || sig === last) return;
    last = sig;
    try {
      await onChange();
    } catch (err) {
      opts.log?.error({ event: 'watch.error', file, err }, 'reloading a watched file failed');
    }
  };
  const schedule = () => {
    if (closed) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void check(), debounceMs);
    debounce.unref();
  };

  void signature().then((sig) => {
    last ??= sig;
  });
  try {
    const name = basename(file);
    watcher = watch(dirname(file), { persistent: false }, (_type, changed) => {
      if (changed === null || changed.toString() === name) schedule();
    });
    watcher.on('error', (err) =>
      opts.log?.debug({ event: 'watch.fallback', file, err }, 'fs.watch failed; polling only'),
    );
  } catch (err) {
    opts.log?.debug({ event: 'watch.fallback', file, err }, 'fs.watch unavailable; polling only');
  }
  const poll = setInterval(() => void check(), pollMs);
  poll.unref();

  return {
    close() {
      closed = true;
      clearInterval(poll);
      if (debounce) clearTimeout(debounce);
      watcher?.close();
    },
  };
}
