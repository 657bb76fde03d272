import type { FilesService } from '../files/service.js';
import type { SessionStore } from '../session/store.js';
import type { AdmitRequest, BootEvent } from './server.js';

/** What `admit` concluded, and which plugin decided. */
export interface AdmitDecision {
  allowed: boolean;
  reason?: string;
  plugin?: string;
}

/**
 * What the protocol engines (core/dhcp, core/tftp, core/http) may ask of the server above them: admit,
 * boot events, sessions, the virtual files and who decided a hook result. The services hand the server in
 * as this interface, so the protocol folders never import server.ts, plugin.ts or config/.
 */
export interface ProtocolHost {
  readonly sessions: SessionStore;
  readonly files: Pick<FilesService, 'resolve'>;
  /** The plugin that returned a bail result or produced a waterfall value, when a plugin did. */
  readonly runner: { decidedBy(result: unknown): string | undefined };
  /** Whether anything receives boot events: hot paths check it before building event data. */
  readonly observesBootEvents: boolean;
  /** Asks the `admit` hook; a failing plugin denies (fail closed). Emits `admit.deny`. */
  admit(req: AdmitRequest): Promise<AdmitDecision>;
  /** Publishes a boot event to observers; never throws. */
  emit(event: Omit<BootEvent, 'time'> & { time?: number }): void;
}
