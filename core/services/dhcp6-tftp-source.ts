/**
 * UEFI firmware (OVMF, AAVMF) drops a TFTP OACK that comes from another address than the one it sent its
 * read request to — the address in the boot URL (option 59). A TFTP transfer socket on `::` answers from
 * whichever source the kernel picks, so when the link that holds the URL's address has other global
 * addresses (a SLAAC address beside a static one, privacy addresses), firmware TFTP over IPv6 times out
 * (PXE-E18) while iPXE and Linux clients work — unless the TFTP server runs on the native listening socket,
 * which binds each transfer to the address the request was sent to (core/tftp/listener.ts). This finds the
 * case where it does not, so the server can say how to fix it.
 */
import type { Logger } from 'pino';
import { canonicalAddress } from '../dhcp6/address.js';
import { repliesFromRequestAddress } from '../tftp/listener.js';
import type { TransportOption } from '../tftp/transfer-socket.js';

export interface LinkAddresses {
  name: string;
  global: readonly string[];
}

/** The link holding `urlAddress` and its other global addresses, or undefined when it has none. */
export function otherSourcesBeside(
  links: readonly LinkAddresses[],
  urlAddress: string,
): { interface: string; others: string[] } | undefined {
  const want = canonicalAddress(urlAddress);
  const link = links.find((l) => l.global.some((a) => canonicalAddress(a) === want));
  if (!link) return undefined;
  const others = link.global.map(canonicalAddress).filter((a) => a !== want);
  return others.length > 0 ? { interface: link.name, others } : undefined;
}

/**
 * Re-checks at most every `everyMs` while tftp:// URLs go out (a SLAAC address appears only once the server
 * hears an RA, usually after start) and warns once per set of other addresses.
 */
export class TftpSourceWatch {
  #checkedAt = Number.NEGATIVE_INFINITY;
  #warned = '';

  constructor(readonly everyMs = 5_000) {}

  /** `tftp`: on the native transport (not single-port, addon built) answers come from the URL's address anyway. */
  check(
    now: number,
    links: () => readonly LinkAddresses[],
    address: string,
    log: Logger,
    tftp?: { transport: TransportOption; singlePort: boolean },
  ): void {
    if (tftp && repliesFromRequestAddress(tftp.transport, tftp.singlePort)) return;
    if (now - this.#checkedAt < this.everyMs) return;
    this.#checkedAt = now;
    const beside = otherSourcesBeside(links(), address);
    const key = beside ? beside.others.join(',') : '';
    if (!beside || key === this.#warned) return;
    this.#warned = key;
    log.warn(
      { event: 'dhcp6.tftp.ambiguous', address, ...beside },
      `TFTP over IPv6 listens on :: while ${beside.interface} also has ${beside.others.join(', ')}: UEFI firmware ` +
        `ignores TFTP answers from another address than the boot URL's; set tftp.address6: ${address}`,
    );
  }
}
