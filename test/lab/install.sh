#!/usr/bin/env bash
# install.sh - the Debian 12 packages pxekit's lab and real-client tests use.
#
# Usage (root):  bash test/lab/install.sh
#   OPTIONAL=1   also tshark (capture.sh, packet captures) and radvd (netns.sh ra)
#   ARM64=1      also the arm64 UEFI guest: qemu-system-arm, qemu-efi-aarch64
#
# Idempotent: apt runs only when something is missing. Nothing here starts a service or opens a
# port on the host: dnsmasq-base is the bare binary (tests run it in their own namespaces as a
# site DHCP server or a reference server), kea-admin brings perfdhcp (not the Kea server),
# tftp-hpa and atftp are clients, radvd only starts with an /etc/radvd.conf, which this does not write.
#
#   qemu-system-x86   BIOS and UEFI guests             ipxe-qemu  the NIC ROMs QEMU loads (BIOS = iPXE)
#   ipxe              undionly.kpxe, ipxe.efi, snponly.efi (boot files to serve)
#   ovmf              OVMF_CODE_4M.fd / OVMF_VARS_4M.fd (UEFI PXE and HTTP boot)
#   isc-dhcp-client   dhclient                         udhcpc, busybox  busybox udhcpc
#   tftp-hpa, atftp, curl   TFTP (and HTTP) clients    kea-admin  perfdhcp
#   dnsmasq-base      reference / site DHCP server     iproute2, procps  ip netns, bridges, taps; pgrep
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

pkgs=(qemu-system-x86 ipxe-qemu ipxe ovmf isc-dhcp-client udhcpc busybox tftp-hpa atftp curl kea-admin
      dnsmasq-base iproute2 procps)
if [ "${OPTIONAL:-0}" = 1 ]; then
  # tshark's package asks whether non-root users may capture: preseed "no"
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  pkgs+=(tshark radvd)
fi
[ "${ARM64:-0}" = 1 ] && pkgs+=(qemu-system-arm qemu-efi-aarch64)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

rc=0
need() { [ -e "$1" ] || command -v "$1" >/dev/null || { echo "install.sh: $1 missing" >&2; rc=1; }; }
for b in qemu-system-x86_64 dhclient udhcpc busybox tftp atftp curl perfdhcp dnsmasq ip; do need "$b"; done
for f in /usr/lib/ipxe/qemu/efi-e1000.rom /usr/lib/ipxe/ipxe.efi /usr/lib/ipxe/undionly.kpxe \
         /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd; do need "$f"; done
[ "${OPTIONAL:-0}" = 1 ] && { need tshark; need radvd; }
[ "${ARM64:-0}" = 1 ] && { need qemu-system-aarch64; need /usr/share/AAVMF/AAVMF_CODE.fd; }
[ -c /dev/net/tun ] || { echo "install.sh: /dev/net/tun missing (QEMU tap networking)" >&2; rc=1; }
if [ $rc = 0 ]; then
  echo "install.sh: lab tools present ($([ -w /dev/kvm ] && echo 'KVM usable' || echo 'no KVM: guests run under TCG'))"
fi
exit $rc
