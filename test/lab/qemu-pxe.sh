#!/usr/bin/env bash
# qemu-pxe.sh - network-boot one real firmware under QEMU on a tap of the lab LAN and watch its
# serial console.
#
# Usage (root):
#   qemu-pxe.sh --firmware FW --netns NS --tap TAP --mac MAC --serial FILE
#               [--marker TEXT] [--fail-marker TEXT] [--timeout SECONDS] [--nic MODEL] [--mem MB]
#               [-- extra QEMU arguments]
#
# FW:
#   bios        SeaBIOS + the NIC's iPXE option ROM from ipxe-qemu (e1000). The ROM *is* iPXE:
#               its first DISCOVER already has user class "iPXE" and option 175.
#   uefi        OVMF with virtio-net-pci and no option ROM (romfile=), so edk2's own PXE client
#               runs: DHCP with option 93 = 7, TFTP of the boot file, then that file.
#               --nic e1000 boots the iPXE EFI ROM instead.
#   uefi-sb     OVMF with Secure Boot enforced: q35 with SMM, secure pflash, OVMF_CODE_4M.secboot.fd and a
#               copy of OVMF_VARS_4M.ms.fd (Microsoft keys enrolled); otherwise like uefi. OVMF_SB_CODE and
#               OVMF_SB_VARS override the two files. Unsigned boot files are refused ("Access Denied").
#   uefi-http   OVMF with its PXE boot options off (fw_cfg IPv4PXESupport=n, IPv6PXESupport=n):
#               the first network boot option is UEFI HTTPv4 (option 93 = 16, 60 "HTTPClient...").
#   arm64       qemu-system-aarch64 -M virt, AAVMF, virtio-net-pci without ROM: PXE with 93 = 11.
#   arm64-http  the arm64 guest doing HTTP boot (93 = 19).
#
# Output: "qemu_pid=<pid>" as soon as QEMU runs, and last
#   "result=<marker|fail-marker|timeout|qemu-exited|terminated|setup-error> elapsed=<s> serial=<FILE>".
# Exit: 0 marker, 1 timeout, 2 QEMU exited, 3 fail marker, 4 usage or setup error, 130 SIGTERM/SIGINT.
# Without --marker the guest runs until the timeout (to record a whole boot).
#
# The guest is bounded twice: this script stops it on the verdict, and a watchdog kills that one
# QEMU process 10 s after the timeout even if this script was SIGKILLed. QEMU's own output goes to
# FILE.qemu.log, its command line to FILE.cmdline; UEFI variables are a fresh copy per boot
# (FILE.vars.fd). Guests run under TCG (QEMU_ACCEL=kvm to use KVM). -nographic is
# what makes SeaBIOS, and so the iPXE ROM, write to the serial port; OVMF does by itself.
set -u

firmware="" netns="" tap="" mac="" serial="" marker="" fail_marker="" timeout=120 nic="" mem=""
extra=()
usage() { sed -n '2,/^set -u/p' "$0" | sed '$d' >&2; exit 4; }
while [ $# -gt 0 ]; do
  case "$1" in
    --firmware | --netns | --tap | --mac | --serial | --marker | --fail-marker | --timeout | --nic | --mem)
      [ $# -ge 2 ] || usage
      v=${1#--}; printf -v "${v//-/_}" '%s' "$2"; shift 2 ;;   # --fail-marker sets $fail_marker
    --) shift; extra=("$@"); break ;;
    -h | --help) usage ;;
    *) echo "qemu-pxe.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
fw=$firmware ns=$netns failmarker=$fail_marker

setup_error() { echo "qemu-pxe.sh: $*" >&2; echo "result=setup-error elapsed=0 serial=$serial"; exit 4; }
[ -n "$fw" ] && [ -n "$ns" ] && [ -n "$tap" ] && [ -n "$mac" ] && [ -n "$serial" ] || usage
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -ge 1 ] && [ "$timeout" -le 3600 ] || setup_error "--timeout must be 1..3600 seconds"
ip netns exec "$ns" ip link show "$tap" >/dev/null 2>&1 || setup_error "no tap '$tap' in namespace '$ns' (netns.sh up)"

arm=0
case "$fw" in
  arm64 | arm64-http) arm=1 ;;
  bios | uefi | uefi-sb | uefi-http) ;;
  *) setup_error "--firmware must be bios, uefi, uefi-sb, uefi-http, arm64 or arm64-http" ;;
esac
qemu=qemu-system-x86_64
[ $arm = 1 ] && qemu=qemu-system-aarch64
command -v "$qemu" >/dev/null || setup_error "$qemu is not installed (bash test/lab/install.sh; ARM64=1 for arm64)"

# TCG unless QEMU_ACCEL=kvm: on nested-virtualisation hosts (like this project's CI) /dev/kvm exists
# but the BIOS iPXE ROM stalls or resets under it; TCG is slower and always works.
accel=${QEMU_ACCEL:-tcg}
[ $arm = 1 ] && [ "$(uname -m)" != aarch64 ] && accel=tcg   # KVM cannot run a foreign CPU

# pflash code + a per-boot copy of the variable store
uefi_drives() {
  local code=$1 vars=$2
  [ -r "$code" ] && [ -r "$vars" ] || setup_error "UEFI firmware not found: $code (bash test/lab/install.sh)"
  cp -f "$vars" "$serial.vars.fd" || setup_error "cannot write $serial.vars.fd"
  args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" -drive "if=pflash,format=raw,unit=1,file=$serial.vars.fd")
}

args=(-name "lab-$fw-$mac" -smp 1 -nographic -monitor none -no-reboot -serial "file:$serial"
      -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no")
case "$fw" in
  bios)
    args+=(-machine "pc,accel=$accel" -m "${mem:-256}" -boot n -device "${nic:-e1000},netdev=n0,mac=$mac,bootindex=1") ;;
  uefi | uefi-http)
    args+=(-machine "q35,accel=$accel" -m "${mem:-512}")
    uefi_drives "${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}" "${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}"
    rom=",romfile="
    [ -n "$nic" ] && rom=""   # another NIC model: let it bring its own ROM
    args+=(-device "${nic:-virtio-net-pci},netdev=n0,mac=$mac,bootindex=1$rom") ;;
  uefi-sb)
    # SMM and a secure pflash keep the guest OS from rewriting the Secure Boot variables (edk2's SMM_REQUIRE).
    args+=(-machine "q35,smm=on,accel=$accel" -global driver=cfi.pflash01,property=secure,value=on -m "${mem:-512}")
    uefi_drives "${OVMF_SB_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}" "${OVMF_SB_VARS:-/usr/share/OVMF/OVMF_VARS_4M.ms.fd}"
    args+=(-device "${nic:-virtio-net-pci},netdev=n0,mac=$mac,bootindex=1,romfile=") ;;
  arm64 | arm64-http)
    cpu=cortex-a57
    [ "$accel" = kvm ] && cpu=host
    args+=(-machine "virt,accel=$accel" -cpu "$cpu" -m "${mem:-512}")
    uefi_drives "${AAVMF_CODE:-/usr/share/AAVMF/AAVMF_CODE.fd}" "${AAVMF_VARS:-/usr/share/AAVMF/AAVMF_VARS.fd}"
    args+=(-device "${nic:-virtio-net-pci},netdev=n0,mac=$mac,bootindex=1,romfile=") ;;
esac
case "$fw" in
  *-http) args+=(-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n) ;;
esac
args+=("${extra[@]}")

: > "$serial" || setup_error "cannot write $serial"
echo "$qemu ${args[*]}" > "$serial.cmdline"
start=$(date +%s%N)
ip netns exec "$ns" "$qemu" "${args[@]}" < /dev/null > "$serial.qemu.log" 2>&1 &   # ip netns exec execs: $! is QEMU
QPID=$!
echo "qemu_pid=$QPID"
( # watchdog: kill that QEMU (and only while that PID is still a QEMU) after timeout + 10 s
  trap 'kill $s 2>/dev/null; exit 0' TERM
  sleep $((timeout + 10)) & s=$!
  wait $s
  grep -aq qemu-system "/proc/$QPID/cmdline" 2>/dev/null && kill -9 "$QPID"
) &
WPID=$!

stop() {
  if [ -n "$QPID" ]; then
    kill "$QPID" 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
    QPID=""
  fi
  if [ -n "$WPID" ]; then kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; WPID=""; fi
}
seconds() { awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }'; }
trap stop EXIT
trap 'stop; echo "result=terminated elapsed=$(seconds) serial=$serial"; exit 130' INT TERM

result=timeout
end=$((start + timeout * 1000000000))
while [ "$(date +%s%N)" -lt $end ]; do
  if [ -n "$marker" ] && grep -aqF -- "$marker" "$serial"; then result=marker; break; fi
  if [ -n "$failmarker" ] && grep -aqF -- "$failmarker" "$serial"; then result=fail-marker; break; fi
  kill -0 "$QPID" 2>/dev/null || { result=qemu-exited; break; }
  sleep 0.1
done
elapsed=$(seconds)
stop
echo "result=$result elapsed=$elapsed serial=$serial"
case $result in marker) exit 0 ;; timeout) exit 1 ;; qemu-exited) exit 2 ;; fail-marker) exit 3 ;; esac
