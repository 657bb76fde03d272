/**
 * The scale-out view of one instance in Prometheus (when dhcp-cluster is configured): whether it
 * reaches Redis, how it splits the clients (redis, defer, fallback), the members and peers it sees,
 * and, per instance since start, the Redis outages, the time spent down and the requests dropped or
 * answered from local state meanwhile. Read from dhcp-cluster's `clusterView` at each scrape.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Provides } from 'pxekit';

const MODES = ['redis', 'defer', 'fallback'] as const;

/** Registers the cluster metrics in `registry`; each reads `view()` when scraped. */
export function registerClusterMetrics(registry: Registry, view: Provides['clusterView']): void {
  const registers = [registry];
  // One snapshot per scrape: the collectors below all run within one registry.metrics() call.
  let cached: { at: number; v: ReturnType<typeof view> } | undefined;
  const current = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 100) cached = { at: now, v: view() };
    return cached.v;
  };
  new Gauge({
    name: 'pxekit_redis_up',
    help: "1 while this instance's Redis link works, 0 during an outage.",
    registers,
    collect() {
      this.set(current().link.up ? 1 : 0);
    },
  });
  new Counter({
    name: 'pxekit_redis_outages_total',
    help: 'Redis outages this instance saw since start (each warned once down and once up).',
    registers,
    collect() {
      this.reset();
      this.inc(current().link.outages);
    },
  });
  new Counter({
    name: 'pxekit_redis_down_seconds_total',
    help: 'Time this instance spent without Redis since start (the current outage included).',
    registers,
    collect() {
      this.reset();
      this.inc(current().link.downMs / 1000);
    },
  });
  new Counter({
    name: 'pxekit_redis_outage_requests_total',
    help:
      'DHCP requests met while Redis was unavailable to this instance: dropped (new clients, ' +
      'or deferred to a peer that reaches Redis) or served_from_cache (known clients answered ' +
      'from local state).',
    labelNames: ['outcome'],
    registers,
    collect() {
      const { dropped, servedFromCache } = current().link;
      this.reset();
      this.inc({ outcome: 'dropped' }, dropped);
      this.inc({ outcome: 'served_from_cache' }, servedFromCache);
    },
  });
  new Gauge({
    name: 'pxekit_cluster_mode',
    help:
      'How this instance splits the clients: 1 for the current mode (redis: on the member view ' +
      'from Redis; defer: cut from Redis, a peer answers; fallback: no instance reaches Redis).',
    labelNames: ['mode'],
    registers,
    collect() {
      const mode = current().mode;
      for (const m of MODES) this.set({ mode: m }, m === mode ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pxekit_cluster_members',
    help: 'Instances this instance splits the clients with, itself included (0 while deferring).',
    registers,
    collect() {
      this.set(current().members.length);
    },
  });
  new Gauge({
    name: 'pxekit_cluster_peers',
    help: 'Peers heard over the peer heartbeat, by whether they say they reach Redis.',
    labelNames: ['redis'],
    registers,
    collect() {
      const peers = current().peers;
      this.set({ redis: 'true' }, peers.filter((p) => p.redis).length);
      this.set({ redis: 'false' }, peers.filter((p) => !p.redis).length);
    },
  });
}
