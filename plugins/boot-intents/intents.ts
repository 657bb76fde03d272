import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { Logger } from 'pino';
import { PxeError } from 'pxekit';
import { normalizeMac } from 'pxekit/kit';

/**
 * Boot intents: per-MAC marks that outlive a restart.
 * - `once`: netboot the next time, then boot from local disk (the mark flips to `done`);
 * - `never`: known, but do not netboot;
 * - `done`: a `once` that was used: no netboot until the mark is set again or cleared.
 */
export type IntentState = 'once' | 'never' | 'done';

export interface Intent {
  mac: string;
  state: IntentState;
  /** ISO time the mark was set. */
  setAt: string;
  /** ISO time a `once` was used (state `done`). */
  bootedAt?: string;
}

interface IntentFile {
  version: 1;
  intents: Record<string, Omit<Intent, 'mac'>>;
}

const STATES: readonly IntentState[] = ['once', 'never', 'done'];

/**
 * The intents of every MAC, in memory, persisted to a JSON file when one is given. Each change is
 * written whole, atomically (temp file + fsync + rename, then the folder is fsynced), so a crash leaves
 * either the old or the new file. Changes are serialized; before each change the file is re-read so a
 * `pxekit intent` edit made while the server runs is not overwritten.
 */
export class IntentStore {
  readonly file: string | undefined;
  readonly #log: Logger | undefined;
  #intents = new Map<string, Intent>();
  #queue: Promise<unknown> = Promise.resolve();
  /** The last write failed: memory is ahead of the file, so do not re-read over it. */
  #dirty = false;

  constructor(opts: { file?: string; log?: Logger } = {}) {
    this.file = opts.file;
    this.#log = opts.log;
  }

  /** Reads the file (a missing file is an empty store). Throws PXE_ERR_INTENT_STORE if it is malformed. */
  async load(): Promise<void> {
    await this.#serial(async () => {
      this.#intents = await this.#read();
    });
  }

  /** Re-reads the file after an outside change; a bad file is logged and the current state kept. */
  async reload(): Promise<void> {
    await this.#serial(async () => {
      if (this.#dirty) return;
      try {
        this.#intents = await this.#read();
        this.#log?.info(
          { event: 'intents.reloaded', file: this.file, count: this.#intents.size },
          'boot intents reloaded',
        );
      } catch (err) {
        this.#log?.error(
          { event: 'intents.load.error', file: this.file, err, code: 'PXE_ERR_INTENT_STORE' },
          'cannot reload boot intents; keeping the current ones',
        );
      }
    });
  }

  get(mac: string): Intent | undefined {
    const m = normalizeMac(mac);
    return m ? this.#intents.get(m) : undefined;
  }

  list(): Intent[] {
    return [...this.#intents.values()].sort((a, b) => a.mac.localeCompare(b.mac));
  }

  /** Marks a MAC (any notation). Throws on a malformed MAC or when the file cannot be written. */
  async set(mac: string, state: 'once' | 'never'): Promise<Intent> {
    const m = requireMac(mac);
    return this.#change((map) => {
      const intent: Intent = { mac: m, state, setAt: new Date().toISOString() };
      map.set(m, intent);
      return intent;
    });
  }

  /** Removes a MAC's mark; resolves false when it had none. */
  async clear(mac: string): Promise<boolean> {
    const m = requireMac(mac);
    return this.#change((map) => map.delete(m));
  }

  /** A `once` was used: flips it to `done`. Other states are left alone (returns undefined). */
  async markBooted(mac: string): Promise<Intent | undefined> {
    const m = requireMac(mac);
    return this.#change((map) => {
      const cur = map.get(m);
      if (cur?.state !== 'once') return undefined;
      const next: Intent = { ...cur, state: 'done', bootedAt: new Date().toISOString() };
      map.set(m, next);
      return next;
    });
  }

  /** Resolves when every queued change has been written (close waits on it: nothing marked is lost). */
  async flush(): Promise<void> {
    await this.#queue;
  }

  async #change<T>(fn: (map: Map<string, Intent>) => T): Promise<T> {
    return this.#serial(async () => {
      if (this.file && !this.#dirty) this.#intents = await this.#read();
      const result = fn(this.#intents);
      if (this.file) {
        try {
          await this.#write();
          this.#dirty = false;
        } catch (err) {
          this.#dirty = true;
          throw new PxeError(
            'PXE_ERR_INTENT_STORE',
            `cannot write boot intents to ${this.file}: ${(err as Error).message}`,
            {
              cause: err,
              fix: 'check the folder permissions and free space; the change is kept in memory and written with the next one',
            },
          );
        }
      }
      return result;
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #read(): Promise<Map<string, Intent>> {
    const map = new Map<string, Intent>();
    if (!this.file) return this.#intents;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return map;
      throw new PxeError('PXE_ERR_INTENT_STORE', `cannot read boot intents ${this.file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    let data: unknown;
    try {
      data = text.trim() === '' ? { version: 1, intents: {} } : JSON.parse(text);
    } catch (err) {
      throw new PxeError(
        'PXE_ERR_INTENT_STORE',
        `boot intents ${this.file} is not valid JSON: ${(err as Error).message}`,
        { cause: err, fix: 'fix or delete the file; `pxekit intent list` shows what the server would load' },
      );
    }
    const intents = (data as Partial<IntentFile> | null)?.intents;
    if (typeof intents !== 'object' || intents === null) {
      throw new PxeError('PXE_ERR_INTENT_STORE', `boot intents ${this.file} has no "intents" object`, {
        fix: 'the file looks like {"version":1,"intents":{"52:54:00:12:34:56":{"state":"once","setAt":"..."}}}',
      });
    }
    for (const [key, v] of Object.entries(intents)) {
      const mac = normalizeMac(key);
      const state = (v as Partial<Intent> | null)?.state;
      if (!mac || !state || !STATES.includes(state)) {
        this.#log?.warn(
          { event: 'intents.entry.invalid', file: this.file, key },
          `boot intents: skipping bad entry "${key}"`,
        );
        continue;
      }
      const setAt = typeof v.setAt === 'string' ? v.setAt : new Date(0).toISOString();
      map.set(mac, { mac, state, setAt, ...(typeof v.bootedAt === 'string' ? { bootedAt: v.bootedAt } : {}) });
    }
    return map;
  }

  async #write(): Promise<void> {
    const file = this.file!;
    const body: IntentFile = { version: 1, intents: {} };
    for (const i of this.list())
      body.intents[i.mac] = { state: i.state, setAt: i.setAt, ...(i.bootedAt ? { bootedAt: i.bootedAt } : {}) };
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(`${JSON.stringify(body, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    // fsync the folder so the rename itself survives a power cut (best effort: not every FS allows it).
    try {
      const dh = await open(dirname(file), 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
      /* ignore */
    }
  }
}

function requireMac(mac: string): string {
  const m = normalizeMac(mac);
  if (!m)
    throw new PxeError('PXE_ERR_INTENT_STORE', `"${mac}" is not a MAC address`, {
      fix: 'write it as aa:bb:cc:dd:ee:ff',
    });
  return m;
}
