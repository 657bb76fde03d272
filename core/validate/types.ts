import type { ConfigIssue } from '../config/issues.js';

/** A problem validate found: where (file, key path), what was found and expected, the fix, how bad. */
export interface ValidateIssue extends Omit<ConfigIssue, 'path'> {
  severity: 'error' | 'warning';
  /** Key path in the config (`dhcp.mode`, `plugins[2] (source-disk) options root`); absent for the file itself. */
  path?: string;
  /** The stage that found it: file, schema, plugins, options, check, start, boot-files. */
  stage: 'file' | 'schema' | 'plugins' | 'options' | 'check' | 'start' | 'boot-files';
}
