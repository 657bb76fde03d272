/** Where a client is in its boot, as seen from the server. */
export type BootStage = 'dhcp' | 'tftp' | 'http' | 'done' | 'failed';

/**
 * What the server decided a client boots: a boot file over TFTP, a URL (iPXE script, UEFI HTTP boot),
 * or nothing ("known, do not boot").
 */
export interface BootSpec {
  /** A TFTP path (`ipxe.efi`) or a full URL (`http://10.0.0.1/boot.ipxe`). Absent with `noBoot`. */
  file?: string;
  /** siaddr: the TFTP server; default the address the request arrived on. */
  nextServer?: string;
  /** sname (option 66 when asked): the TFTP server's name or address. */
  serverName?: string;
  /** The client is known but must not netboot (one-shot done, "do not netboot" intent). */
  noBoot?: boolean;
  /**
   * ProxyDHCP path for this client: `bootserver` (no option 43 discovery control on 67, the client asks
   * on 4011 — what most UEFI ROMs need) or `option43` (PXE discovery control 43.6=8 with the boot file
   * in the 67 offer — what BIOS ROMs take). Default: chosen by the DHCP service from the client's arch.
   */
  proxyPolicy?: 'bootserver' | 'option43';
  /** Boot file parameters, sent to IPv6 clients as DHCPv6 option 60 (RFC 5970); IPv4 replies have no such option. */
  params?: string[];
  /** Extra DHCP options for the reply (code → raw bytes), e.g. iPXE 175.176. */
  dhcpOptions?: Record<number, Buffer>;
  /** Free-form values a plugin wants templates to see (kernel, initrd, cmdline, profile name). */
  vars?: Record<string, unknown>;
  /** Plugin that made the decision (filled by the core from the hook runner). */
  decidedBy?: string;
  /** Why, in words, for logs, audit and `pxekit explain`. */
  reason?: string;
}

/** Everything the server knows about one client across DHCP, TFTP and HTTP, keyed by MAC. */
export interface BootSession {
  /** Lowercase `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Last known IPv4 address (lease, ciaddr, or the source of a TFTP/HTTP request). */
  ip?: string;
  /** Option 93 client architecture (first value). */
  arch?: number;
  archName?: string;
  firmware?: 'bios' | 'uefi' | 'uefi-http' | 'unknown';
  vendorClass?: string;
  userClass?: string[];
  isIpxe?: boolean;
  /** Option 97 GUID as a string, when the client sent a 17-byte one. */
  guid?: string;
  /** Labels added by classify plugins (e.g. `{ model: 'rpi4' }`). */
  labels: Record<string, string>;
  boot?: BootSpec;
  stage: BootStage;
  /** Set when admit denied this client, with the reason. */
  denied?: string;
  firstSeen: number;
  lastSeen: number;
  /** Bytes served over TFTP and HTTP. */
  bytes: number;
  /** Files fetched, most recent last (bounded). */
  files: string[];
}
