#!/usr/bin/env bash
# capture-dhcp6.sh - record real DHCPv6 clients for test/fixtures/dhcp6: ISC dhclient -6 (stateful
# Solicit..Reply, Confirm on restart, Renew, Release, stateless Information-request), the same
# client through ISC dhcrelay -6 (Relay-forward / Relay-reply), OVMF's PXE over IPv6 with IPv4 PXE
# switched off and then iPXE (ipxe.efi, fetched by OVMF over TFTP on IPv6) asking again, and OVMF's
# UEFI HTTP boot over IPv6. dnsmasq (DHCPv6 + TFTP) is the reference server except for HTTP boot:
# dnsmasq writes option 16 without the enterprise number, so OVMF ignores its offers, and Kea
# (kea-dhcp6, a client class on HTTPClient echoing 16 as enterprise 343 + "HTTPClient") answers
# instead. radvd sends the M flag. tshark on the server's eth0 records; each DHCPv6 UDP payload
# becomes test/fixtures/dhcp6/<step>-<nn>-<msgtype>.hex, and index.tsv lists them with tshark's view
# (rows of steps not re-captured are kept).
#
# Usage (root): bash test/lab/capture-dhcp6.sh [OUT]
#   OUT      where the pcaps go (default: a new temp dir, printed)
#   STEPS    default "dhclient relay uefi http"
#   EXTRACT=0 only capture; EXTRACT_ONLY=1 only extract the STEPS' pcaps already in OUT
# Needs: dnsmasq, dhclient, dhcrelay (isc-dhcp-relay), radvd, tshark, qemu-system-x86_64 + OVMF,
# ipxe, kea-dhcp6 (kea-dhcp6-server). Guests run one at a time (flock /tmp/pxekit-qemu.lock).
# Takes about 8 minutes (the HTTP boot guest first waits out HTTP over IPv4).
#
# Fixed addresses: server fd77::1/64 (LAN prefix fd77::/64), relay host fd77:0:0:1::3 on its own
# prefix toward the server, dhclient MAC 52:54:00:d6:00:01 (its DUID-LLT holds it), OVMF PXE guest
# MAC 52:54:00:77:e6:64, OVMF HTTP boot guest MAC 52:54:00:77:e6:48.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$LAB/../.." && pwd)
OUT=${1:-$(mktemp -d /tmp/pxekit-capture6.XXXXXX)}
STEPS=${STEPS:-dhclient relay uefi http}
DEST=$REPO/test/fixtures/dhcp6
[ "$(id -u)" = 0 ] || { echo "capture-dhcp6.sh: run as root" >&2; exit 1; }
need=(tshark dnsmasq radvd dhclient dhcrelay qemu-system-x86_64)
[[ " $STEPS " == *" http "* ]] && need+=(kea-dhcp6)
for b in "${need[@]}"; do
  command -v "$b" >/dev/null || { echo "capture-dhcp6.sh: $b missing (apt-get install it)" >&2; exit 1; }
done
mkdir -p "$OUT/root"
echo "capture-dhcp6.sh: pcaps in $OUT"

export REALNET_NAME=pxk6cap REALNET_TAPS=1 REALNET_IPV6=1 REALNET_SRV_IP=10.76.0.1/24
SRV=pxk6cap-srv CLI=pxk6cap-cli
PIDS=()
netns() { bash "$LAB/netns.sh" "$@"; }
bg() { "$@" & PIDS+=($!); }
stop_all() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() { stop_all; netns down --kill >/dev/null 2>&1 || true; }
[ "${EXTRACT_ONLY:-0}" = 1 ] || trap cleanup EXIT   # extract-only touches no LAN (a capture may be running)
cp -f /usr/lib/ipxe/ipxe.efi "$OUT/root/ipxe.efi"

lan() {
  stop_all
  netns down --kill >/dev/null 2>&1 || true
  netns up >/dev/null
  netns ra --prefix fd77::/64 --managed >/dev/null
  ip -n "$CLI" link set eth0 address 52:54:00:d6:00:01
  sleep 2   # link-local addresses leave DAD
  bg ip netns exec "$SRV" dnsmasq -k -C /dev/null --port=0 --log-dhcp --no-ping --log-facility="$OUT/dnsmasq.log" \
    --dhcp-range=fd77::100,fd77::1ff,64,2m --dhcp-range=fd77:0:0:1::100,fd77:0:0:1::1ff,64,2m \
    --dhcp-leasefile="$OUT/dnsmasq.leases" --enable-tftp --tftp-root="$OUT/root" \
    --dhcp-option=option6:bootfile-url,'tftp://[fd77::1]/ipxe.efi'
  sleep 1
}

record() {   # record NAME CMD...
  local name=$1; shift
  local pcap=$OUT/$name.pcapng i rc=0
  ip netns exec "$SRV" tshark -q -n -i eth0 -f 'udp port 546 or udp port 547' -w "$pcap" 2>"$OUT/$name.tshark.log" &
  local tpid=$!
  for i in $(seq 100); do grep -q "Capturing on" "$OUT/$name.tshark.log" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  "$@" || rc=$?
  sleep 2
  kill -INT "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  echo "  $name: exit $rc, $(tshark -r "$pcap" 2>/dev/null | wc -l) packets"
}

DHC=(ip netns exec "$CLI" timeout 60 dhclient -6 -v -cf /dev/null -lf "$OUT/dhclient6.leases" -pf "$OUT/dhclient6.pid")
step_dhclient() {
  lan
  rm -f "$OUT/dhclient6.leases"
  run() {
    "${DHC[@]}" -1 eth0                  # Solicit, Advertise, Request, Reply; then daemon
    sleep 70                             # T1 of a 2-minute lease: Renew, Reply
    kill "$(cat "$OUT/dhclient6.pid")"
    sleep 1
    "${DHC[@]}" -1 eth0                  # restart with a stored lease: Confirm, Reply
    "${DHC[@]}" -r eth0                  # Release, Reply
    "${DHC[@]}" -S -1 eth0               # stateless: Information-request, Reply
    kill "$(cat "$OUT/dhclient6.pid")" 2>/dev/null || true
  }
  record dhclient run
}

step_relay() {
  lan
  # the relay sits between the LAN (eth0, which it listens on) and the server on a second prefix
  netns add-host relay 10.76.0.3/24 >/dev/null
  ip -n pxk6cap-relay -6 addr add fd77::3/64 dev eth0 nodad
  ip -n "$SRV" -6 addr add fd77:0:0:1::1/64 dev eth0 nodad
  ip -n pxk6cap-relay -6 addr add fd77:0:0:1::3/64 dev eth0 nodad
  bg ip netns exec pxk6cap-relay dhcrelay -6 -d --no-pid -l fd77::3%eth0 -u fd77:0:0:1::1%eth0
  sleep 1
  rm -f "$OUT/dhclient6.leases"
  run() {
    "${DHC[@]}" -1 eth0
    "${DHC[@]}" -r eth0
  }
  record relay run
}

step_uefi() {
  lan
  run() {
    flock /tmp/pxekit-qemu.lock bash "$LAB/qemu-pxe.sh" --firmware uefi --netns "$CLI" --tap tap0 \
      --mac 52:54:00:77:e6:64 --serial "$OUT/uefi6.serial" --marker 'tftp://[fd77::1]/ipxe.efi' --timeout 300 \
      -- -fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n | tail -1
  }
  record uefi run
}

# OVMF's UEFI HTTP boot over IPv6, answered by Kea: addresses from a pool, and for HTTPClient a URL in 59
# and option 16 echoed raw (enterprise 343, one length-prefixed "HTTPClient"). It first tries HTTP over
# IPv4 (about a minute under TCG); the marker is the URI line printed after its DHCPv6 Reply.
step_http() {
  lan
  stop_all   # no dnsmasq: Kea answers
  cat > "$OUT/kea-dhcp6.json" <<EOF
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "eth0" ] },
  "server-id": { "type": "LL", "persist": false },
  "lease-database": { "type": "memfile", "persist": true, "name": "$OUT/kea6.leases" },
  "preferred-lifetime": 120, "valid-lifetime": 240,
  "client-classes": [ {
    "name": "uefi-http",
    "test": "substring(option[16].hex,6,10) == 'HTTPClient'",
    "option-data": [
      { "name": "bootfile-url", "data": "http://[fd77::1]/ipxe.efi" },
      { "code": 16, "space": "dhcp6", "csv-format": false, "data": "00000157000A48545450436C69656E74" }
    ]
  } ],
  "subnet6": [ { "subnet": "fd77::/64", "interface": "eth0", "pools": [ { "pool": "fd77::100-fd77::1ff" } ] } ],
  "loggers": [ { "name": "kea-dhcp6", "severity": "INFO", "output_options": [ { "output": "$OUT/kea6.log" } ] } ]
} }
EOF
  bg env KEA_PIDFILE_DIR="$OUT" KEA_LOCKFILE_DIR="$OUT" ip netns exec "$SRV" kea-dhcp6 -c "$OUT/kea-dhcp6.json"
  sleep 2
  run() {
    flock /tmp/pxekit-qemu.lock bash "$LAB/qemu-pxe.sh" --firmware uefi-http --netns "$CLI" --tap tap0 \
      --mac 52:54:00:77:e6:48 --serial "$OUT/http6.serial" --marker 'URI: http://[fd77::1]' --timeout 420 | tail -1
  }
  record http run
}

[ "${EXTRACT_ONLY:-0}" = 1 ] || for s in $STEPS; do echo "step $s"; "step_$s"; done
stop_all

[ "${EXTRACT:-1}" = 1 ] || exit 0
# Each DHCPv6 payload becomes <step>-<nn>-<msgtype>.hex; index.tsv keeps tshark's own decode of it
# (an independent decoder) for the golden test: message types (outer first for relays), transaction
# id, option codes depth-first, IAADDR addresses, DUID-LLT link-layer addresses, IAIDs, relay peer and
# link addresses, option 16 enterprise numbers and data (tshark 4.0 has no field for option 61).
FIELDS=(ipv6.src ipv6.dst dhcpv6.msgtype dhcpv6.xid dhcpv6.option.type dhcpv6.iaaddr.ip
  dhcpv6.duidllt.link_layer_addr dhcpv6.iaid dhcpv6.peeraddr dhcpv6.linkaddr dhcpv6.vendorclass.enterprise
  dhcpv6.vendorclass.data)
mkdir -p "$DEST"
{
  printf 'file'; printf '\t%s' "${FIELDS[@]}"; printf '\n'
  # rows of the steps not captured this time stay as they were
  if [ -f "$DEST/index.tsv" ]; then
    tail -n +2 "$DEST/index.tsv" | while IFS= read -r row; do
      [[ " $STEPS " == *" ${row%%-*} "* ]] || printf '%s\n' "$row"
    done
  fi
  for s in $STEPS; do
    rm -f "$DEST/$s"-*.hex
    n=0
    args=(); for f in "${FIELDS[@]}" udp.payload; do args+=(-e "$f"); done
    tshark -r "$OUT/$s.pcapng" -Y dhcpv6 -T fields -E separator=/t "${args[@]}" 2>/dev/null |
      while IFS= read -r line; do
        n=$((n + 1))
        payload=${line##*$'\t'}
        type=$(cut -f3 <<<"$line" | cut -d, -f1)
        name=$(printf '%s-%02d-%s' "$s" "$n" "$type")
        tr -d ':' <<<"$payload" > "$DEST/$name.hex"
        printf '%s.hex\t%s\n' "$name" "${line%$'\t'*}"
      done
  done
} > "$DEST/index.tsv.new"
mv "$DEST/index.tsv.new" "$DEST/index.tsv"
echo "capture-dhcp6.sh: wrote $(ls "$DEST"/*.hex | wc -l) fixtures and index.tsv to $DEST"
