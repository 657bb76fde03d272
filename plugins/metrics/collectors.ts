import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BootEvent, PxeServer, TapTiming } from 'pxekit';
import { LabelGuard } from './label-guard.js';

const HOOK_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const TFTP_OUTCOME: Record<string, string> = {
  'tftp.done': 'ok',
  'tftp.probe': 'probe',
  'tftp.error': 'error',
  'tftp.denied': 'denied',
};
const HTTP_TYPES = new Set(['http.get', 'http.error', 'http.deny']);
const OFFER_TYPES = new Set(['dhcp.offer', 'dhcp.proxy.offer']);

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

/** A transfer count a service may expose (`activeTransfers`), read duck-typed: not every service has one. */
function activeTransfers(service: unknown): number | undefined {
  const v = (service as { activeTransfers?: unknown } | undefined)?.activeTransfers;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** pxekit's metrics in their own Registry (never prom-client's global one), fed from boot events and hook timings. */
export class PxeMetrics {
  readonly registry = new Registry();
  readonly #types = new LabelGuard(128);
  readonly #codes = new LabelGuard(128);
  readonly #plugins = new LabelGuard(128);
  readonly #archs = new LabelGuard(64);
  readonly #hooks = new LabelGuard(64);
  readonly #statuses = new LabelGuard(64, /^\d{3}$/);
  readonly #hookSampleRate: number;

  readonly bootEvents: Counter<'type' | 'outcome'>;
  readonly dhcpPackets: Counter<'type' | 'outcome'>;
  readonly dhcpOffers: Counter<'arch'>;
  readonly tftpTransfers: Counter<'outcome'>;
  readonly tftpBytes: Counter;
  readonly tftpRetransmits: Counter;
  readonly httpRequests: Counter<'status'>;
  readonly httpBytes: Counter;
  readonly admitDenials: Counter<'plugin' | 'protocol'>;
  readonly errors: Counter<'code'>;
  readonly hookDuration: Histogram<'hook' | 'plugin'>;
  readonly hookFailures: Counter<'hook' | 'plugin'>;

  constructor(server: PxeServer, opts: { hookSampleRate: number; processMetrics: boolean }) {
    const registers = [this.registry];
    this.#hookSampleRate = opts.hookSampleRate;
    this.bootEvents = new Counter({
      name: 'pxekit_boot_events_total',
      help: 'Every boot event, by type and outcome.',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.dhcpPackets = new Counter({
      name: 'pxekit_dhcp_packets_total',
      help:
        'DHCP packets received and sent (and drops/errors), by event type (discover, offer, ' +
        'proxy.offer, ack, bootserver.ack, nak, drop, ...) and outcome.',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.dhcpOffers = new Counter({
      name: 'pxekit_dhcp_offers_total',
      help: 'DHCP offers (full and proxy) by client architecture name (option 93).',
      labelNames: ['arch'],
      registers,
    });
    this.tftpTransfers = new Counter({
      name: 'pxekit_tftp_transfers_total',
      help: 'Finished TFTP read requests by outcome: ok, probe (tsize-only), error, denied.',
      labelNames: ['outcome'],
      registers,
    });
    this.tftpBytes = new Counter({
      name: 'pxekit_tftp_bytes_total',
      help: 'File bytes sent over TFTP (finished and failed transfers).',
      registers,
    });
    this.tftpRetransmits = new Counter({
      name: 'pxekit_tftp_retransmits_total',
      help: 'TFTP data packets sent again after a timeout or duplicate ACK.',
      registers,
    });
    this.httpRequests = new Counter({
      name: 'pxekit_http_requests_total',
      help: 'HTTP boot requests (files and scripts; not /metrics or /status) by status code.',
      labelNames: ['status'],
      registers,
    });
    this.httpBytes = new Counter({
      name: 'pxekit_http_bytes_total',
      help: 'Body bytes sent for HTTP boot requests.',
      registers,
    });
    this.admitDenials = new Counter({
      name: 'pxekit_admit_denials_total',
      help: 'Clients refused by admit, by the deciding plugin and the protocol that asked.',
      labelNames: ['plugin', 'protocol'],
      registers,
    });
    this.errors = new Counter({
      name: 'pxekit_errors_total',
      help: 'Boot events with outcome "error", by PXE_ERR_* code (or the event type when the event has no code).',
      labelNames: ['code'],
      registers,
    });
    this.hookDuration = new Histogram({
      name: 'pxekit_hook_duration_seconds',
      help: 'Duration of plugin hook taps, by hook and plugin (sampled at hookSampleRate).',
      labelNames: ['hook', 'plugin'],
      buckets: HOOK_BUCKETS,
      registers,
    });
    this.hookFailures = new Counter({
      name: 'pxekit_hook_failures_total',
      help: 'Hook taps that threw, rejected or timed out, by hook and plugin.',
      labelNames: ['hook', 'plugin'],
      registers,
    });
    new Gauge({
      name: 'pxekit_active_sessions',
      help: 'Boot sessions (clients seen within sessions.ttlSeconds).',
      registers,
      collect() {
        this.set(server.sessions.size);
      },
    });
    new Gauge({
      name: 'pxekit_active_transfers',
      help: 'Transfers in progress, by protocol (where the service reports it).',
      labelNames: ['protocol'],
      registers,
      collect() {
        this.reset();
        for (const [protocol, svc] of [
          ['tftp', server.tftp],
          ['http', server.http],
        ] as const) {
          const n = activeTransfers(svc);
          if (n !== undefined) this.set({ protocol }, n);
        }
      },
    });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'pxekit_' });
  }

  /** Counts one boot event. Cheap, never throws (runs on the packet path). */
  onEvent(ev: BootEvent): void {
    const d = ev.data ?? {};
    const type = this.#types.value(ev.type);
    const outcome = String(ev.outcome);
    this.bootEvents.inc({ type, outcome });
    if (ev.protocol === 'dhcp' && type.startsWith('dhcp.')) {
      this.dhcpPackets.inc({ type: type.slice(5), outcome });
      if (OFFER_TYPES.has(ev.type) && ev.outcome === 'ok')
        this.dhcpOffers.inc({ arch: this.#archs.value(d['archName'] ?? ev.session?.archName) });
    }
    const tftp = TFTP_OUTCOME[ev.type];
    if (tftp) {
      this.tftpTransfers.inc({ outcome: tftp });
      const bytes = num(d['bytes']);
      if (bytes) this.tftpBytes.inc(bytes);
      const re = num(d['retransmits']);
      if (re) this.tftpRetransmits.inc(re);
    }
    if (HTTP_TYPES.has(ev.type)) {
      const status = ev.type === 'http.deny' ? 403 : d['status'];
      this.httpRequests.inc({ status: this.#statuses.value(status) });
      const bytes = num(d['bytes']);
      if (bytes) this.httpBytes.inc(bytes);
    }
    if (ev.type === 'admit.deny') {
      this.admitDenials.inc({ plugin: this.#plugins.value(ev.plugin), protocol: String(ev.protocol) });
      // The HTTP handler answers an admit denial with 403 and no http.* event of its own.
      if (ev.protocol === 'http') this.httpRequests.inc({ status: '403' });
    }
    if (ev.outcome === 'error') {
      const code = typeof d['code'] === 'string' && d['code'].startsWith('PXE_ERR_') ? d['code'] : ev.type;
      this.errors.inc({ code: this.#codes.value(code) });
    }
  }

  /** One tap's duration (runner.onTiming). Sampled; failures are always counted. */
  onTiming(t: TapTiming): void {
    if (!t.ok) this.hookFailures.inc({ hook: this.#hooks.value(t.hook), plugin: this.#plugins.value(t.plugin) });
    if (this.#hookSampleRate < 1 && Math.random() >= this.#hookSampleRate) return;
    this.hookDuration.observe(
      { hook: this.#hooks.value(t.hook), plugin: this.#plugins.value(t.plugin) },
      t.durationMs / 1000,
    );
  }
}
