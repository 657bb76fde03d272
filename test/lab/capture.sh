#!/usr/bin/env bash
# capture.sh - record the real-client packets in test/fixtures again: real firmware under QEMU
# (SeaBIOS + iPXE ROM, OVMF PXE and HTTP boot, AAVMF arm64 PXE and HTTP boot, ipxe.efi chained)
# and real clients (dhclient, udhcpc, curl, atftp, tftp-hpa), each talking to dnsmasq as the
# reference server on a lab LAN, captured with tshark on the server's interface; then
# extract-fixtures.ts cuts the packets out into test/fixtures/{dhcp,tftp}/*.hex + index.json.
#
# Usage (root, from anywhere):  bash test/lab/capture.sh [OUT]
#   OUT       where the pcaps go (default: a new temp dir, printed at the end)
#   STEPS     steps to run (default: all, in order; see STEP_LIST below)
#   EXTRACT=0 only capture, do not rewrite test/fixtures
# Needs: bash test/lab/install.sh with OPTIONAL=1 (tshark, radvd) and ARM64=1 (arm64 guests).
# Takes about 5 minutes under TCG; guests run one at a time (flock /tmp/pxekit-qemu.lock).
#
# Addresses and MACs are fixed (dnsmasq hands out pinned addresses), so a refresh changes only
# what the clients choose themselves (transaction ids, ports): the tests read the rest.
#   full LAN  10.77.0.1: BIOS 52:54:00:77:b1:05 -> .165, UEFI 52:54:00:77:ef:64 -> .128,
#             UEFI HTTP 52:54:00:77:48:10 -> .178, arm64 52:54:00:77:aa:64 -> .112, arm64 HTTP 52:54:00:77:aa:65 -> .113
#   proxy LAN 10.99.0.1 (proxy, ports 67 + 4011) next to a site DHCP server 10.99.0.3:
#             UEFI 52:54:00:00:ef:64 -> .210, BIOS 52:54:00:00:b1:05 -> .162
#   clients   10.99.0.1 full: dhclient 52:54:00:dc:00:01 -> .250, udhcpc 52:54:00:dc:00:02 -> .251;
#             TFTP clients at 10.99.0.2 fetch bench/f1M (1 MiB)
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$LAB/../.." && pwd)
OUT=${1:-$(mktemp -d /tmp/pxekit-capture.XXXXXX)}
STEP_LIST="bios uefi uefi-http arm64 arm64-http proxy-uefi proxy-bios dhclient udhcpc curl atftp-opts atftp-plain tftp-hpa"
STEPS=${STEPS:-$STEP_LIST}
MARK=LAB-CAPTURE-OK
[ "$(id -u)" = 0 ] || { echo "capture.sh: run as root" >&2; exit 1; }
for b in tshark dnsmasq busybox radvd dhclient atftp tftp curl qemu-system-x86_64; do
  command -v "$b" >/dev/null || { echo "capture.sh: $b missing (OPTIONAL=1 ARM64=1 bash test/lab/install.sh)" >&2; exit 1; }
done
mkdir -p "$OUT"
echo "capture.sh: pcaps in $OUT"

export REALNET_NAME=pxkcap REALNET_TAPS=1
SRV=pxkcap-srv CLI=pxkcap-cli
ROOT=$OUT/root
PIDS=()

netns() { bash "$LAB/netns.sh" "$@"; }
bg() { "$@" & PIDS+=($!); }   # a lab process stopped by cleanup (by PID, never by name)
stop_all() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() { stop_all; netns down --kill >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Files to serve: Debian's ipxe.efi (x64) and, as the arm64 "boot file", the same binary (the arm64
# firmware downloads it, then refuses to run an x64 image: the download is what is captured).
prepare_root() {
  mkdir -p "$ROOT/bench"
  cp -f /usr/lib/ipxe/ipxe.efi "$ROOT/ipxe.efi"
  cp -f /usr/lib/ipxe/ipxe.efi "$ROOT/bootaa64.efi"
  head -c 1048576 /dev/urandom > "$ROOT/bench/f1M"
  # HTTP script: BIOS fetches a second script by TFTP (to capture iPXE's TFTP request), others stop.
  printf '#!ipxe\niseq ${platform} pcbios && chain tftp://${next-server}/marker.ipxe ||\necho %s ${platform}\n' "$MARK" > "$ROOT/boot.ipxe"
  printf '#!ipxe\necho %s ${platform} tftp\n' "$MARK" > "$ROOT/marker.ipxe"
}

# lan SRV_CIDR: a fresh LAN with radvd (ends iPXE's IPv6 router wait) and an HTTP server on :80
lan() {
  stop_all
  REALNET_SRV_IP=$1 netns up >/dev/null
  netns ra >/dev/null
  bg ip netns exec "$SRV" busybox httpd -f -p "${1%/*}:80" -h "$ROOT"
}

# record NAME CMD...: tshark on the server's eth0 (UDP only) around one client run
record() {
  local name=$1; shift
  local pcap=$OUT/$name.pcapng i
  rm -f "$pcap"
  ip netns exec "$SRV" tshark -q -n -i eth0 -f udp -w "$pcap" 2>"$OUT/$name.tshark.log" &
  local tpid=$!
  for i in $(seq 100); do grep -q "Capturing on" "$OUT/$name.tshark.log" 2>/dev/null && break; sleep 0.1; done
  sleep 1   # "Capturing on" comes a moment before dumpcap really captures
  local rc=0
  "$@" || rc=$?
  sleep 2   # tshark hands packets to its file up to ~1 s late
  kill -INT "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  echo "  $name: exit $rc, $(tshark -r "$pcap" 2>/dev/null | wc -l) packets"
}

boot() {   # boot FIRMWARE MAC MARKER TIMEOUT
  flock /tmp/pxekit-qemu.lock bash "$LAB/qemu-pxe.sh" --firmware "$1" --netns "$CLI" --tap tap0 --mac "$2" \
    --serial "$OUT/$1-$2.serial" --marker "$3" --timeout "$4" | tail -1
}

DNSMASQ=(dnsmasq -k -C /dev/null --port=0 --bind-interfaces --interface=eth0 --log-dhcp --no-ping)

full_server() {
  lan 10.77.0.1/24
  bg ip netns exec "$SRV" "${DNSMASQ[@]}" --log-facility="$OUT/dnsmasq-full.log" \
    --dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h --dhcp-leasefile="$OUT/full.leases" \
    --dhcp-option=option:router,10.77.0.1 \
    --dhcp-host=52:54:00:77:b1:05,10.77.0.165 --dhcp-host=52:54:00:77:ef:64,10.77.0.128 \
    --dhcp-host=52:54:00:77:48:10,10.77.0.178 --dhcp-host=52:54:00:77:aa:64,10.77.0.112 \
    --dhcp-host=52:54:00:77:aa:65,10.77.0.113 \
    --enable-tftp --tftp-root="$ROOT" \
    --dhcp-userclass=set:ipxe,iPXE \
    --dhcp-match=set:http,option:client-arch,16 --dhcp-match=set:http,option:client-arch,19 \
    --dhcp-match=set:arm64,option:client-arch,11 \
    --dhcp-option-force=tag:http,60,HTTPClient \
    --dhcp-boot=tag:ipxe,http://10.77.0.1/boot.ipxe \
    --dhcp-boot=tag:!ipxe,tag:http,http://10.77.0.1/ipxe.efi \
    --dhcp-boot=tag:!ipxe,tag:arm64,bootaa64.efi \
    --dhcp-boot=tag:!ipxe,tag:!http,tag:!arm64,ipxe.efi
}

proxy_server() {
  lan 10.99.0.1/24
  netns add-host dhcp 10.99.0.3/24 >/dev/null
  # the site's DHCP server: addresses only, no PXE
  bg ip netns exec pxkcap-dhcp "${DNSMASQ[@]}" --log-facility="$OUT/dnsmasq-site.log" \
    --dhcp-range=10.99.0.100,10.99.0.250,255.255.255.0,1h --dhcp-leasefile="$OUT/site.leases" \
    --dhcp-host=52:54:00:00:ef:64,10.99.0.210 --dhcp-host=52:54:00:00:b1:05,10.99.0.162
  bg ip netns exec "$SRV" "${DNSMASQ[@]}" --log-facility="$OUT/dnsmasq-proxy.log" \
    --dhcp-range=10.99.0.0,proxy,255.255.255.0 --enable-tftp --tftp-root="$ROOT" \
    --dhcp-userclass=set:ipxe,iPXE --pxe-prompt="lab proxy",0 \
    --dhcp-boot=tag:ipxe,http://10.99.0.1/boot.ipxe \
    --pxe-service=tag:ipxe,x86PC,"iPXE script",http://10.99.0.1/boot.ipxe \
    --pxe-service=tag:!ipxe,x86PC,"undionly",undionly \
    --pxe-service=tag:ipxe,X86-64_EFI,"iPXE script",http://10.99.0.1/boot.ipxe \
    --pxe-service=tag:!ipxe,X86-64_EFI,"ipxe.efi",ipxe.efi
}

clients_server() {
  lan 10.99.0.1/24
  bg ip netns exec "$SRV" "${DNSMASQ[@]}" --log-facility="$OUT/dnsmasq-clients.log" \
    --dhcp-range=10.99.0.100,10.99.0.251,255.255.255.0,1h --dhcp-leasefile="$OUT/clients.leases" \
    --dhcp-option=option:router,10.99.0.1 \
    --dhcp-host=52:54:00:dc:00:01,10.99.0.250 --dhcp-host=52:54:00:dc:00:02,10.99.0.251 \
    --enable-tftp --tftp-root="$ROOT"
}

# The client stack's eth0 with a given MAC (and optionally a static address)
client_if() {
  ip -n "$CLI" link set eth0 down
  ip -n "$CLI" link set eth0 address "$1"
  ip -n "$CLI" addr flush dev eth0
  ip -n "$CLI" link set eth0 up
  [ -n "${2:-}" ] && ip -n "$CLI" addr add "$2" dev eth0
  sleep 1
}

dhclient_run() {
  local d=$OUT/dhclient
  mkdir -p "$d"
  # dhclient empties the environment before running its script: paths are written in
  cat > "$d/script" <<EOF
#!/bin/sh
case "\$reason" in
  BOUND|REBOOT|RENEW) /usr/sbin/ip addr replace "\$new_ip_address/24" dev "\$interface" ;;
  RELEASE|STOP|EXPIRE) /usr/sbin/ip addr flush dev "\$interface" ;;
esac
exit 0
EOF
  chmod +x "$d/script"
  local dh=(dhclient -4 -v -sf "$d/script" -lf "$d/leases" -pf "$d/pid")
  rm -f "$d/leases"
  ip netns exec "$CLI" timeout 60 "${dh[@]}" -1 eth0            # DISCOVER, REQUEST; then in the background
  ip netns exec "$CLI" timeout 20 "${dh[@]}" -x eth0            # stop, keeping the lease
  ip -n "$CLI" addr flush dev eth0
  ip netns exec "$CLI" timeout 60 "${dh[@]}" -1 eth0            # INIT-REBOOT REQUEST for the remembered lease
  ip netns exec "$CLI" timeout 20 "${dh[@]}" -r eth0            # RELEASE, unicast from the lease
}

udhcpc_run() {
  printf '#!/bin/sh\nexit 0\n' > "$OUT/udhcpc.script"
  chmod +x "$OUT/udhcpc.script"
  ip netns exec "$CLI" timeout 30 busybox udhcpc -f -q -n -i eth0 -t 5 -T 2 -s "$OUT/udhcpc.script"
}

in_cli() { ip netns exec "$CLI" timeout 60 "$@"; }
F=bench/f1M
prepare_root
for step in $STEPS; do
  echo "== $step"
  case "$step" in
    bios) full_server; record bios boot bios 52:54:00:77:b1:05 "$MARK pcbios tftp" 180 ;;
    uefi) full_server; record uefi boot uefi 52:54:00:77:ef:64 "$MARK efi" 300 ;;
    uefi-http) full_server; record uefi-http boot uefi-http 52:54:00:77:48:10 "Downloading...100%" 180 ;;
    arm64) full_server; record arm64 boot arm64 52:54:00:77:aa:64 "NBP file downloaded successfully" 240 ;;
    arm64-http) full_server; record arm64-http boot arm64-http 52:54:00:77:aa:65 "Downloading...100%" 240 ;;
    proxy-uefi) proxy_server; record proxy-uefi boot uefi 52:54:00:00:ef:64 "$MARK efi" 300 ;;
    proxy-bios) proxy_server; record proxy-bios boot bios 52:54:00:00:b1:05 "$MARK pcbios" 180 ;;
    dhclient) clients_server; client_if 52:54:00:dc:00:01; record dhclient dhclient_run ;;
    udhcpc) clients_server; client_if 52:54:00:dc:00:02; record udhcpc udhcpc_run ;;
    curl) clients_server; client_if 52:54:00:dc:00:03 10.99.0.2/24
      record curl in_cli curl -s -S -o "$OUT/curl.out" --tftp-blksize 1468 "tftp://10.99.0.1/$F" ;;
    atftp-opts) clients_server; client_if 52:54:00:dc:00:03 10.99.0.2/24
      record atftp-opts in_cli atftp --option "blksize 1468" --option "windowsize 8" -g -r "$F" -l "$OUT/atftp.out" 10.99.0.1 ;;
    atftp-plain) clients_server; client_if 52:54:00:dc:00:03 10.99.0.2/24
      record atftp-plain in_cli atftp -g -r "$F" -l "$OUT/atftp-plain.out" 10.99.0.1 ;;
    tftp-hpa) clients_server; client_if 52:54:00:dc:00:03 10.99.0.2/24
      record tftp-hpa in_cli tftp 10.99.0.1 -m binary -c get "$F" "$OUT/tftp-hpa.out" ;;
    *) echo "capture.sh: unknown step '$step' (steps: $STEP_LIST)" >&2; exit 2 ;;
  esac
done
cleanup
dpkg-query -W -f='${Package} ${Version}\n' qemu-system-x86 qemu-system-arm ipxe ipxe-qemu ovmf qemu-efi-aarch64 \
  dnsmasq-base isc-dhcp-client busybox curl atftp tftp-hpa tshark > "$OUT/versions.txt" 2>/dev/null || true
if [ "${EXTRACT:-1}" = 1 ]; then
  (cd "$REPO" && node --conditions=source --import tsx test/lab/extract-fixtures.ts "$OUT" test/fixtures)
fi
echo "capture.sh: done; pcaps in $OUT"
