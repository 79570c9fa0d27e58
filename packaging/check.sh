#!/usr/bin/env bash
# Build the .deb and check it end to end on this machine, as root (Debian/Ubuntu, amd64):
#   1. packaging/build.sh, then the set-up's own tests (cancel, retry, repair, its window under Xvfb);
#   2. install the package as root would (apt-get install ./ditto-desk_*.deb: dependencies included);
#   3. as a fresh ordinary user, in a virtual display (xvfb-run): start it through the desktop entry's Exec=,
#      first-run set-up included (screenshot of the set-up window), interrupt a set-up and start again,
#      then `ditto-desk --self-test` (packaging/check_session.sh);
#   4. uninstall: the user's profiles stay and the package says where; remove the user.
# Needs root and the package registries (the user's pip gets this machine's pip configuration).
# Usage: sudo packaging/check.sh   (about 5 minutes here; outputs under /tmp/ditto-desk-check)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
[ "$(id -u)" -eq 0 ] || { echo "check.sh installs a package and adds a user: run it as root" >&2; exit 1; }
work=${DITTO_DESK_CHECK_DIR:-/tmp/ditto-desk-check}
user=ditto-desk-check
check_start=$(date +%s.%N)
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
say() { echo "== $*"; }

cleanup() {
  if id "$user" >/dev/null 2>&1; then
    for _ in $(seq 1 40); do pgrep -u "$user" >/dev/null || break; sleep 0.5; done # xvfb-run's X server
    userdel -r "$user" >/dev/null 2>&1 || userdel "$user" || true
  fi
  if dpkg -s ditto-desk >/dev/null 2>&1; then dpkg --purge ditto-desk >/dev/null || true; fi
}
trap cleanup EXIT

need=()
command -v xvfb-run >/dev/null || need+=(xvfb xauth)
command -v import >/dev/null || need+=(imagemagick)
command -v xwininfo >/dev/null || need+=(x11-utils)
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v bc >/dev/null || need+=(bc)
if [ ${#need[@]} -gt 0 ]; then
  say "installing the check's tools: ${need[*]}"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cleanup
rm -rf "$work"
mkdir -p "$work/out"
chmod 755 "$work"

say "build"
start=$(now)
packaging/build.sh "$work/dist"
build_s=$(since "$start")
deb=$(ls "$work"/dist/ditto-desk_*_amd64.deb)

say "the set-up's own tests (window under Xvfb)"
start=$(now)
xvfb-run -a .venv/bin/python -m pytest packaging/tests -q -p no:cacheprovider
tests_s=$(since "$start")

say "install as root: apt-get install $deb"
start=$(now)
apt-get install -y -q "$deb" 2>&1 | tee "$work/out/install.txt" | tail -4
install_s=$(since "$start")
desktop-file-validate /usr/share/applications/ditto-desk.desktop | grep -v ': hint:' || true
icon=$(sed -n 's/^Icon=//p' /usr/share/applications/ditto-desk.desktop)
for size in 16x16 32x32 48x48 64x64 128x128 256x256 scalable; do
  ls /usr/share/icons/hicolor/$size/apps/"$icon".* >/dev/null
done
echo "desktop entry: Name=$(sed -n 's/^Name=//p' /usr/share/applications/ditto-desk.desktop | head -1), Icon=$icon"

say "a fresh user starts it from the desktop entry, in a virtual display"
useradd --create-home --home-dir "$work/home" --shell /bin/bash "$user"
chown "$user" "$work/out"
# This machine reaches PyPI through pip's configuration (a user file and PIP_* variables): the new user
# gets the same, as any user of this machine would. The set-up reads it through the runtime's own pip.
install -d -o "$user" -g "$user" "$work/home/.config" "$work/home/.config/pip"
for conf in "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf"; do
  [ -f "$conf" ] && install -o "$user" -g "$user" -m 644 "$conf" "$work/home/.config/pip/pip.conf" && break
done
pip_env=()
while IFS= read -r line; do pip_env+=("$line"); done < <(env | grep -E '^(PIP_|UV_|HTTPS?_PROXY=|https?_proxy=|NO_PROXY=|no_proxy=)' || true)
install -m 755 packaging/check_session.sh "$work/check_session.sh"
start=$(now)
runuser -u "$user" -- env -i HOME="$work/home" USER="$user" LOGNAME="$user" LANG=C.UTF-8 \
  PATH=/usr/local/bin:/usr/bin:/bin "${pip_env[@]}" \
  xvfb-run -a -s "-screen 0 1280x800x24" "$work/check_session.sh" "$work/out"
session_s=$(since "$start")

say "uninstall: apt-get remove ditto-desk"
apt-get remove -y -q ditto-desk 2>&1 | tee "$work/out/remove.txt" | grep -A20 'was removed' || true
grep -q "profiles (your texts and learned styles): ~/.local/share/ditto-desk/profiles" "$work/out/remove.txt"
grep -q "$work/home/.local/share/ditto-desk" "$work/out/remove.txt"
[ -d "$work/home/.local/share/ditto-desk/profiles" ] || { echo "the user's profiles are gone" >&2; exit 1; }
[ ! -e /usr/bin/ditto-desk ] && [ ! -e /usr/lib/ditto-desk ] || { echo "files left after removal" >&2; exit 1; }
echo "profiles kept: $work/home/.local/share/ditto-desk/profiles"

install -d "$repo/packaging/screenshots"
cp "$work/out/setup-window.png" "$work/out/app-window.png" "$repo/packaging/screenshots/"
{
  echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"
  echo "build: ${build_s} s; set-up tests: ${tests_s} s; apt-get install: ${install_s} s; user session: ${session_s} s"
  cat "$work/out/timings.txt"
  echo "whole check: $(since "$check_start") s"
} | tee "$work/out/report.txt"
say "passed (outputs in $work/out; screenshots copied to packaging/screenshots/)"
