/**
 * dnsmasq command lines for the lab, where tests and benchmarks run it as the reference (or the site's)
 * server inside a network namespace: in the foreground, with no config file and no DNS, bound to the
 * namespace's eth0, logging to stderr, its pid and lease files in `dir` named after `name`.
 */
import path from 'node:path';

export interface DnsmasqFiles {
  /** Folder for the pid and lease files. */
  dir: string;
  /** File name stem (`site` → site.pid, site.leases); default `dnsmasq`. */
  name?: string;
}

/** Every lab dnsmasq: foreground, no /etc/dnsmasq.conf, no DNS, eth0 only, log to stderr. */
export function dnsmasqBaseArgs(files: DnsmasqFiles): string[] {
  return [
    '-k',
    '-C',
    '/dev/null',
    '--user=root',
    '--port=0',
    '--bind-interfaces',
    '--interface=eth0',
    `--pid-file=${path.join(files.dir, `${files.name ?? 'dnsmasq'}.pid`)}`,
    '--log-facility=-',
  ];
}

/**
 * An authoritative DHCP server without the ping check (it delays every first OFFER by ~3 s) over `range`
 * (default the lab LAN's pool, 10.77.0.100–199, 1 h leases), leases in `<name>.leases`.
 */
export function dnsmasqDhcpArgs(files: DnsmasqFiles, range = '10.77.0.100,10.77.0.199,1h'): string[] {
  return [
    ...dnsmasqBaseArgs(files),
    '--no-ping',
    '--dhcp-authoritative',
    `--dhcp-range=${range}`,
    `--dhcp-leasefile=${path.join(files.dir, `${files.name ?? 'dnsmasq'}.leases`)}`,
  ];
}
