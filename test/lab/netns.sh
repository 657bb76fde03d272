#!/usr/bin/env bash
# netns.sh - pxekit's lab LAN: a private Ethernet segment built only from network namespaces.
# Nothing is added to the host's own namespace and no namespace has a default route, so test
# traffic cannot leave the lab.
#
#   <NAME>-srv   eth0 = $REALNET_SRV_IP   (pxekit, or a reference server, runs here)
#        | veth
#   <NAME>-cli   br0 (bridge, no address) joins: uplink (to srv), eth0-br (to this namespace's
#                own eth0, the client stack for dhclient/udhcpc/curl/atftp/tftp/perfdhcp),
#                tap0..tapN-1 (QEMU guests), h-<host> (extra hosts from add-host)
#   <NAME>-<host>  eth0 = CIDR   (optional: a site DHCP server, a relay...)
#
# Commands (root):
#   up                 build the LAN (an old one of the same NAME is removed first)
#   down [--kill]      remove it; always safe. --kill first stops processes still inside the
#                      lab's namespaces (only the lab's own can be there)
#   add-host HOST CIDR one more namespace <NAME>-HOST on the bridge, CIDR on its eth0
#   ra [--prefix P/64] [--managed] [--other]
#                      radvd on the server's eth0. Default: no prefix, router lifetime 0, M=0,
#                      O=0 — the one RA that ends iPXE's ~13 s IPv6 router wait without giving
#                      guests an IPv6 route. --prefix advertises an on-link SLAAC prefix (and
#                      adds P::1/64 to the server's eth0); --managed/--other set M/O for DHCPv6.
#                      Turns IPv6 on for the server's eth0. 'down' stops it. Needs radvd.
#   status             namespaces, addresses, bridge ports
#   env                the effective settings as shell assignments
#
# Settings (environment):
#   REALNET_NAME   pxk           namespace prefix; one per test file (separate LANs never collide)
#   REALNET_SRV_IP 10.77.0.1/24  server address
#   REALNET_CLI_IP (empty)       static address on the client stack's eth0
#   REALNET_TAPS   2             tap devices for QEMU guests
#   REALNET_IPV6   0             1 keeps IPv6 on in every namespace (IPv6 tests); 0 turns it off
#                                so captures hold only what a test asked for
#   REALNET_STATE  /run/pxekit-lab   where add-host and ra keep their state
set -u

NAME=${REALNET_NAME:-pxk}
SRV_IP=${REALNET_SRV_IP:-10.77.0.1/24}
CLI_IP=${REALNET_CLI_IP:-}
TAPS=${REALNET_TAPS:-2}
IPV6=${REALNET_IPV6:-0}
STATE=${REALNET_STATE:-/run/pxekit-lab}
SRV=$NAME-srv
CLI=$NAME-cli
HOSTS=$STATE/$NAME.hosts
RADVD_PID=$STATE/$NAME.radvd.pid
RADVD_CONF=$STATE/$NAME.radvd.conf
RADVD_LOG=$STATE/$NAME.radvd.log

die() { echo "netns.sh: $*" >&2; exit 1; }
have_ns() { [ -e "/run/netns/$1" ]; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# A fresh namespace: loopback up, IPv6 as REALNET_IPV6 says.
new_ns() {
  local ns=$1 off=1
  [ "$IPV6" = 1 ] && off=0
  ip netns add "$ns"
  in_ns "$ns" sysctl -qw "net.ipv6.conf.all.disable_ipv6=$off" "net.ipv6.conf.default.disable_ipv6=$off" >/dev/null 2>&1 || true
  ip -n "$ns" link set lo up
}

build() {
  [ -c /dev/net/tun ] || die "/dev/net/tun is missing: QEMU cannot attach guests to tap devices"
  new_ns "$SRV"
  new_ns "$CLI"
  # Each veth is born with its ends already inside the namespaces: the host never sees them.
  ip -n "$SRV" link add eth0 type veth peer name uplink netns "$CLI"
  ip -n "$CLI" link add eth0 type veth peer name eth0-br
  # No STP and no forward delay (firmware gives up long before STP would forward), and no
  # multicast snooping so IPv6 RS/RA/DHCPv6 multicast reaches every port.
  ip -n "$CLI" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  local port i
  for port in uplink eth0-br; do ip -n "$CLI" link set "$port" master br0 up; done
  for ((i = 0; i < TAPS; i++)); do
    ip -n "$CLI" tuntap add dev "tap$i" mode tap
    ip -n "$CLI" link set "tap$i" master br0 up
  done
  ip -n "$CLI" link set br0 up
  ip -n "$CLI" link set eth0 up
  ip -n "$SRV" link set eth0 up
  ip -n "$SRV" addr add "$SRV_IP" dev eth0
  if [ -n "$CLI_IP" ]; then ip -n "$CLI" addr add "$CLI_IP" dev eth0; fi
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
  cmd_down >/dev/null 2>&1
  ( set -e; build )
  local rc=$?
  if [ $rc != 0 ]; then cmd_down >/dev/null 2>&1; die "could not build the LAN (error above); removed what was made"; fi
  echo "lab up: $SRV ($SRV_IP) <-> $CLI (br0, $TAPS taps)"
}

cmd_add_host() {
  local host=${1:-} cidr=${2:-}
  [ -n "$host" ] && [ -n "$cidr" ] || die "usage: netns.sh add-host HOST CIDR"
  have_ns "$CLI" || die "no LAN '$NAME' (run 'netns.sh up' first)"
  local ns=$NAME-$host port="h-${host:0:13}"   # interface names are at most 15 characters
  mkdir -p "$STATE"
  new_ns "$ns" || die "cannot create namespace $ns"
  echo "$ns" >> "$HOSTS"
  ip -n "$ns" link add eth0 type veth peer name "$port" netns "$CLI" || die "cannot link $ns to the bridge"
  ip -n "$CLI" link set "$port" master br0 up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add "$cidr" dev eth0
  echo "lab host: $ns $cidr (bridge port $port)"
}

radvd_stop() {   # only the radvd this script started, identified by its pid file and name
  local pid i
  pid=$(cat "$RADVD_PID" 2>/dev/null)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = radvd ]; then
    kill "$pid" 2>/dev/null
    for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = radvd ] && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$RADVD_PID" "$RADVD_CONF" "$RADVD_LOG"
}

cmd_ra() {
  local prefix="" managed=off other=off i pid
  while [ $# -gt 0 ]; do
    case "$1" in
      --prefix) prefix=${2:-}; shift 2 ;;
      --managed) managed=on; shift ;;
      --other) other=on; shift ;;
      *) die "ra: unknown argument '$1'" ;;
    esac
  done
  command -v radvd >/dev/null || die "radvd is not installed (OPTIONAL=1 bash test/lab/install.sh)"
  have_ns "$SRV" || die "no LAN '$NAME' (run 'netns.sh up' first)"
  radvd_stop
  mkdir -p "$STATE"
  # IPv6 on the server's eth0 without duplicate address detection, so radvd's link-local
  # source address is usable at once.
  in_ns "$SRV" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_dad=0 >/dev/null
  for i in $(seq 50); do
    ip -n "$SRV" -6 addr show dev eth0 scope link | grep -q inet6 && break
    sleep 0.1
  done
  local prefix_block=""
  if [ -n "$prefix" ]; then
    ip -n "$SRV" -6 addr add "${prefix%/*}1/64" dev eth0 2>/dev/null || true
    prefix_block="  prefix $prefix { AdvOnLink on; AdvAutonomous on; };"
  fi
  cat > "$RADVD_CONF" <<EOF
interface eth0 {
  AdvSendAdvert on;
  MinRtrAdvInterval 30;
  MaxRtrAdvInterval 100;
  AdvDefaultLifetime 0;
  AdvManagedFlag $managed;
  AdvOtherConfigFlag $other;
$prefix_block
};
EOF
  in_ns "$SRV" radvd -C "$RADVD_CONF" -p "$RADVD_PID" -m logfile -l "$RADVD_LOG" || die "radvd failed (see $RADVD_LOG)"
  for i in $(seq 50); do [ -s "$RADVD_PID" ] && break; sleep 0.1; done
  pid=$(cat "$RADVD_PID" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || die "radvd did not stay up (see $RADVD_LOG)"
  echo "lab ra: radvd $pid in $SRV (M=$managed O=$other prefix=${prefix:-none})"
}

cmd_down() {
  local kill=${1:-} ns pids p i
  radvd_stop
  for ns in $(cat "$HOSTS" 2>/dev/null) "$CLI" "$SRV"; do
    have_ns "$ns" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    if [ -n "${pids// /}" ]; then
      if [ "$kill" = --kill ]; then
        for p in $pids; do kill "$p" 2>/dev/null; done
        for i in $(seq 30); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
      else
        echo "netns.sh: still running in $ns: $pids(stop them or use 'down --kill')" >&2
      fi
    fi
    ip netns del "$ns" 2>/dev/null
  done
  rm -f "$HOSTS"
  return 0
}

cmd_status() {
  local ns
  for ns in "$SRV" "$CLI" $(cat "$HOSTS" 2>/dev/null); do
    echo "== $ns"
    ip -n "$ns" -br addr 2>/dev/null || echo "   (absent)"
  done
  echo "== bridge ports"
  ip -n "$CLI" -br link show master br0 2>/dev/null || echo "   (none)"
}

cmd_env() {
  printf '%s\n' "REALNET_NAME=$NAME" "REALNET_SRV_NS=$SRV" "REALNET_CLI_NS=$CLI" "REALNET_SRV_IP=$SRV_IP" \
    "REALNET_SRV_ADDR=${SRV_IP%/*}" "REALNET_CLI_IP=$CLI_IP" "REALNET_TAPS=$TAPS" "REALNET_IPV6=$IPV6"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  up) cmd_up ;;
  down) cmd_down "${1:-}" ;;
  add-host) cmd_add_host "$@" ;;
  ra) cmd_ra "$@" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) sed -n '2,/^set -u/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
