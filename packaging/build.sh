#!/usr/bin/env bash
# Build dist/ditto-desk_<version>_amd64.deb: the app's code and resources, the pinned runtime requirements,
# the first-run set-up (stdlib + Tkinter), the `ditto-desk` command, the desktop entry and the icons.
# Needs the project's .venv (scripts/setup.sh dev,eval) only to read the tested versions for the lock.
# Usage: packaging/build.sh [OUT_DIR]   (default: dist/). Rebuilds from scratch each time (a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s.%N)
out="${1:-dist}"
venv_python=.venv/bin/python
[ -x "$venv_python" ] || { echo "build.sh: no .venv here; run scripts/setup.sh dev,eval first" >&2; exit 1; }
version=$("$venv_python" -c 'import ditto_desk; print(ditto_desk.__version__)')
stage=packaging/build/deb-root
lib=$stage/usr/lib/ditto-desk
rm -rf "$stage"
mkdir -p "$lib/app" "$lib/bootstrap" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/doc/ditto-desk" "$stage/DEBIAN" "$out"

# The app's code and resources side by side, as in the repository: the code finds resources/ next to itself.
# (Installed into the runtime through a .pth file, so upgrading the package upgrades every user's app at once.)
tar --exclude=__pycache__ --exclude='*.pyc' -cf - ditto_desk resources | tar -xf - -C "$lib/app"
tar --exclude=__pycache__ --exclude='*.pyc' -C packaging/bootstrap -cf - ditto_desk_bootstrap launch.py run_app.py |
  tar -xf - -C "$lib/bootstrap"
"$venv_python" packaging/make_lock.py "$lib"
cp packaging/installer.txt "$lib/installer.txt"

cat > "$stage/usr/bin/ditto-desk" <<'EOF'
#!/bin/sh
# -E -s: the user's PYTHONPATH and user site-packages never reach the set-up; the app runs in its own runtime.
exec /usr/bin/python3 -E -s /usr/lib/ditto-desk/bootstrap/launch.py "$@"
EOF
cp packaging/ditto-desk.desktop "$stage/usr/share/applications/ditto-desk.desktop"
for png in resources/icons/hicolor/*/apps/ditto-desk.png; do
  size=$(basename "$(dirname "$(dirname "$png")")")
  install -D -m 644 "$png" "$stage/usr/share/icons/hicolor/$size/apps/ditto-desk.png"
done
install -D -m 644 resources/icons/ditto-desk.svg "$stage/usr/share/icons/hicolor/scalable/apps/ditto-desk.svg"
cat > "$stage/usr/share/doc/ditto-desk/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ditto-desk

Files: *
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
EOF

installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$installed_kb/" packaging/debian/control.in > "$stage/DEBIAN/control"
for script in postinst prerm postrm; do install -m 755 "packaging/debian/$script" "$stage/DEBIAN/$script"; done
find "$stage" -type d -exec chmod 755 {} +
find "$stage/usr" -type f -exec chmod 644 {} +
chmod 755 "$stage/usr/bin/ditto-desk"

deb="$out/ditto-desk_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$stage/usr/share/applications/ditto-desk.desktop" | grep -v '^.*: hint:' || true
fi
seconds=$(echo "$(date +%s.%N) - $start" | bc)
printf 'built %s: %s bytes (%s KB installed) in %.1f s\n' "$deb" "$(stat -c %s "$deb")" "$installed_kb" "$seconds"
