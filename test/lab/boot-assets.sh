#!/usr/bin/env bash
# boot-assets.sh - fetch the Debian packages the Linux-boot tests and `npm run bench:boot` serve, and unpack
# the few files they need into a cache folder. Nothing is installed on the host.
#
# Usage:  bash test/lab/boot-assets.sh [DIR]      (DIR default: $PXEKIT_BOOT_ASSETS, else <repo>/.cache/boot-assets)
#
# Packages come from Debian 12 (bookworm + security) through `apt-get download` with a private apt state in
# DIR/apt (its own sources list, amd64 and arm64 indexes), so the host's apt state and architectures stay as
# they are. Each package is unpacked with `dpkg-deb -x` into DIR/pkg/<name>_<arch> and only what a boot
# needs is copied out:
#
#   x64/shimx64.efi  x64/grubx64.efi (= grubnetx64.efi.signed)  x64/vmlinuz   x64/busybox    (amd64)
#   aa64/shimaa64.efi aa64/grubaa64.efi (= grubnetaa64.efi.signed) aa64/vmlinuz aa64/busybox (arm64)
#   firmware/OVMF_CODE_4M.secboot.fd  OVMF_VARS_4M.ms.fd  OVMF_CODE_4M.fd  OVMF_VARS_4M.fd  (ovmf)
#   firmware/AAVMF_CODE.fd  AAVMF_VARS.fd                                                   (qemu-efi-aarch64)
#   VERSIONS   one "package arch version" line per package; present = the cache is complete
#
# Idempotent: with DIR/VERSIONS present it prints it and exits (delete DIR to refresh). ~150 MB download
# (two kernel packages with their modules; only vmlinuz is kept), ~1 min on a fast mirror.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-${PXEKIT_BOOT_ASSETS:-$ROOT/.cache/boot-assets}}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

if [ -f "$DIR/VERSIONS" ]; then
  echo "boot-assets: cached in $DIR"
  cat "$DIR/VERSIONS"
  exit 0
fi
for t in apt-get dpkg-deb; do command -v $t >/dev/null || { echo "boot-assets: $t missing (Debian host needed)" >&2; exit 1; }; done
[ -r "$KEYRING" ] || { echo "boot-assets: $KEYRING missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

mkdir -p "$DIR"/apt/{lists/partial,cache/archives/partial,etc/preferences.d} "$DIR/debs" "$DIR/pkg" "$DIR/x64" "$DIR/aa64" "$DIR/firmware"
: > "$DIR/apt/status"
cat > "$DIR/apt/etc/sources.list" <<EOF
deb [arch=amd64,arm64 signed-by=$KEYRING] $MIRROR bookworm main
deb [arch=amd64,arm64 signed-by=$KEYRING] $MIRROR bookworm-updates main
deb [arch=amd64,arm64 signed-by=$KEYRING] $SECURITY bookworm-security main
EOF
APT=(-o "APT::Sandbox::User=root" -o "Dir::State=$DIR/apt" -o "Dir::State::Lists=$DIR/apt/lists" -o "Dir::State::status=$DIR/apt/status"
     -o "Dir::Cache=$DIR/apt/cache" -o "Dir::Etc::SourceList=$DIR/apt/etc/sources.list"
     -o "Dir::Etc::SourceParts=/nonexistent" -o "Dir::Etc::Preferences=$DIR/apt/etc/preferences"
     -o "Dir::Etc::PreferencesParts=$DIR/apt/etc/preferences.d"
     -o "APT::Architecture=amd64" -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64"
     -o "Debug::NoLocking=1" -o "Acquire::Languages=none" -q)

echo "boot-assets: apt-get update (private state in $DIR/apt)"
apt-get "${APT[@]}" update >/dev/null

# The signed kernel the linux-image-<arch> metapackage points at (linux-image-6.1.0-N-<arch>, signed build).
kernel_pkg() {
  apt-cache "${APT[@]}" depends "linux-image-$1:$1" | awk '/Depends: linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }'
}
K64=$(kernel_pkg amd64)
KA64=$(kernel_pkg arm64)
[ -n "$K64" ] && [ -n "$KA64" ] || { echo "boot-assets: cannot resolve the kernel packages" >&2; exit 1; }

PKGS=(shim-signed:amd64 grub-efi-amd64-signed:amd64 "$K64:amd64" busybox-static:amd64 ovmf:all
      shim-signed:arm64 grub-efi-arm64-signed:arm64 "$KA64:arm64" busybox-static:arm64 qemu-efi-aarch64:all)
echo "boot-assets: apt-get download ${PKGS[*]}"
(cd "$DIR/debs" && apt-get "${APT[@]}" download "${PKGS[@]}" >/dev/null)

unpack() {   # unpack NAME ARCH: the .deb of NAME for ARCH into pkg/NAME_ARCH; prints that folder
  local deb
  deb=$(ls "$DIR/debs/$1"_*_"$2".deb | head -1)
  rm -rf "$DIR/pkg/$1_$2"
  dpkg-deb -x "$deb" "$DIR/pkg/$1_$2"
  echo "$1 $2 $(dpkg-deb -f "$deb" Version)" >> "$DIR/VERSIONS.tmp"
  echo "$DIR/pkg/$1_$2"
}
: > "$DIR/VERSIONS.tmp"
p=$(unpack shim-signed amd64);           cp "$p/usr/lib/shim/shimx64.efi.signed" "$DIR/x64/shimx64.efi"
p=$(unpack grub-efi-amd64-signed amd64); cp "$p/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" "$DIR/x64/grubx64.efi"
p=$(unpack "$K64" amd64);                cp "$p"/boot/vmlinuz-* "$DIR/x64/vmlinuz"; rm -rf "$p"   # modules: not needed
p=$(unpack busybox-static amd64);        cp "$p/bin/busybox" "$DIR/x64/busybox"
p=$(unpack ovmf all)
for f in OVMF_CODE_4M.secboot.fd OVMF_VARS_4M.ms.fd OVMF_CODE_4M.fd OVMF_VARS_4M.fd; do cp "$p/usr/share/OVMF/$f" "$DIR/firmware/"; done
p=$(unpack shim-signed arm64);           cp "$p/usr/lib/shim/shimaa64.efi.signed" "$DIR/aa64/shimaa64.efi"
p=$(unpack grub-efi-arm64-signed arm64); cp "$p/usr/lib/grub/arm64-efi-signed/grubnetaa64.efi.signed" "$DIR/aa64/grubaa64.efi"
p=$(unpack "$KA64" arm64);               cp "$p"/boot/vmlinuz-* "$DIR/aa64/vmlinuz"; rm -rf "$p"
p=$(unpack busybox-static arm64);        cp "$p/bin/busybox" "$DIR/aa64/busybox"
p=$(unpack qemu-efi-aarch64 all)
for f in AAVMF_CODE.fd AAVMF_VARS.fd; do cp "$p/usr/share/AAVMF/$f" "$DIR/firmware/"; done
rm -rf "$DIR/debs" "$DIR/pkg" "$DIR/apt"   # keep only the files above (~190 MB, 128 MB of it the AAVMF images)
mv "$DIR/VERSIONS.tmp" "$DIR/VERSIONS"
echo "boot-assets: ready in $DIR"
cat "$DIR/VERSIONS"
