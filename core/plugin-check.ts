/**
 * Readiness checks: part of the plugin contract (`check` in `definePlugin`). `pxekit validate` calls every
 * plugin's `check` after the config and every plugin's options validated, without starting anything,
 * so an operator learns before `start` that a folder is missing, a template does not compile or a
 * repository does not answer. A third-party plugin declares its own the same way.
 */
import type { Logger } from 'pino';
import type { PxeConfig } from './config/types.js';

/** One thing a check found. The core adds the config file and the plugin's place (`plugins[2] (name)`). */
export interface CheckProblem {
  /** `error`: `start` would fail or the plugin cannot work; `warning`: it starts, but something is off. */
  severity: 'error' | 'warning';
  /** The option it is about, as a path in the plugin's options (`root`, `files["/boot.ipxe"]`); omit for the whole plugin. */
  key?: string;
  /** What is wrong, as a sentence without the location (`root folder ./boot does not exist`). */
  message: string;
  /** What was found there (`"./boot"`, `ENOENT`). */
  found?: string;
  /** What was expected (`a readable folder`). */
  expected?: string;
  /** How to fix it, as an instruction (`create the folder, or fix "root"`). */
  fix: string;
}

/** What a plugin's `check` gets. */
export interface CheckContext<O> {
  /** Options, validated against `optionsSchema` with defaults applied (as `apply` gets them). */
  options: O;
  /** The core config, validated with defaults applied. */
  config: PxeConfig;
  /** Folder that relative paths in options resolve against (the config file's folder). */
  baseDir: string;
  /** The instance name (`source-disk#ipxe` for a second instance). */
  name: string;
  /** A child logger bound to `{ plugin: name }` (silent unless `validate --log-level` is given). */
  log: Logger;
  /**
   * Time a network probe may take, in ms (`validate --timeout`). A probe that cannot reach its remote in
   * time reports a `warning`: the machine running validate may not be on the boot network.
   */
  timeoutMs: number;
  /** Aborted when validate gives up (its overall deadline): stop probes then. */
  signal: AbortSignal;
}

/**
 * A plugin's readiness check: looks at what `start` will need (files, folders, templates, remotes)
 * without binding sockets, writing anything or keeping anything open, and returns the problems
 * (an empty array, or nothing, when all is well). A throw is reported as an error of the plugin.
 */
export type PluginCheck<O> = (ctx: CheckContext<O>) => CheckProblem[] | void | Promise<CheckProblem[] | void>;
