#!/usr/bin/env bash
# The user's side of packaging/check.sh: run as an ordinary user inside a virtual display (xvfb-run).
# Starts the app the way the desktop menu does (the Exec= line of the installed .desktop file), through its
# first-run set-up, an interrupted set-up and its repair, a later start, then `ditto-desk --self-test`.
# Usage: check_session.sh OUT_DIR   (writes screenshots, logs and timings.txt there)
set -euo pipefail
out="$1"
mkdir -p "$out"
desktop=/usr/share/applications/ditto-desk.desktop
# The Exec= of the [Desktop Entry] group, without field codes (%f, %U, ...), as a menu would run it.
exec_line=$(sed -n '/^\[Desktop Entry\]/,/^\[Desktop Action/{s/^Exec=//p}' "$desktop" | head -1 | sed 's/ *%[a-zA-Z]//g')
data="$HOME/.local/share/ditto-desk"
log="$data/setup.log"
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
record() { echo "$1" | tee -a "$out/timings.txt"; }

launch() { # name -> pid of the started app (its own process group)
  setsid sh -c "exec $exec_line" >"$out/launch-$1.log" 2>&1 &
  echo $!
}
kill_tree() { # pid: the process and everything it started (as a logout or a power cut would)
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null || true
}
wait_until() { # seconds command... : poll until the command succeeds
  local limit=$1
  shift
  local start
  start=$(now)
  until "$@"; do
    if (($(echo "$(now) - $start > $limit" | bc))); then return 1; fi
    sleep 0.3
  done
}
viewable_windows() { # name pattern (grep -E, quoted as xwininfo prints names) -> ids of mapped windows
  local id
  for id in $(xwininfo -root -tree 2>/dev/null | grep -E "\"$1\"" | awk '{print $1}'); do
    xwininfo -id "$id" 2>/dev/null | grep -q 'Map State: IsViewable' && echo "$id"
  done
  return 0
}
setup_window_id() { viewable_windows 'Ditto Desk — first-time set-up' | head -1; }
app_window_id() { viewable_windows 'Ditto Desk( — [^"]*)?' | while read -r id; do
  xwininfo -id "$id" | grep -q 'first-time set-up' || echo "$id"
done | head -1; }
setup_window() { [ -n "$(setup_window_id)" ]; }
app_window() { [ -n "$(app_window_id)" ]; }
alive() { ps -o stat= -p "$1" 2>/dev/null | grep -qv Z; } # a zombie counts as gone
gone() { ! alive "$1"; }
no_app_window() { ! app_window; }
stop() { # pid: ask the app to quit, and wait until it and its window (the X server lags a little) are gone
  kill -TERM "$1" 2>/dev/null || true
  wait_until 30 gone "$1" || kill_tree "$1"
  wait_until 30 no_app_window
}
in_log() { [ -f "$log" ] && grep -q -- "$1" "$log"; }
shot() { import -window "$1" "$out/$2" && echo "screenshot $out/$2"; }

echo "desktop entry runs: $exec_line"
[ ! -e "$data/runtime" ] || { echo "a runtime exists already; the check needs a fresh user" >&2; exit 1; }

# 1. The first start from the menu, from nothing: the set-up window, then the app's window.
start=$(now)
pid=$(launch first)
wait_until 60 setup_window || { echo "no set-up window" >&2; cat "$out/launch-first.log" >&2; exit 1; }
record "first start: set-up window after $(since "$start") s"
wait_until 300 in_log "^--- Install the libraries" || { echo "set-up stalled" >&2; tail -20 "$log" >&2; exit 1; }
sleep 1.5
shot "$(setup_window_id)" setup-window.png
wait_until 900 app_window || { echo "no app window" >&2; tail -30 "$log" "$out/launch-first.log" >&2; exit 1; }
record "first start: app window after $(since "$start") s (set-up included)"
record "first start: set-up took $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' \
  "$data/runtime/ditto-desk-runtime.json") s by its stamp"
sleep 8 # the window loads the model in the background: let it say so
wid=$(app_window_id)
shot "$wid" app-window.png
xprop -id "$wid" WM_CLASS _NET_WM_NAME | tee "$out/app-window-props.txt"
grep -q 'WM_CLASS.*"ditto-desk"' "$out/app-window-props.txt" || { echo "WM_CLASS is not ditto-desk" >&2; exit 1; }
xprop -id "$wid" _NET_WM_ICON >"$out/app-window-icon.txt"
grep -q '_NET_WM_ICON(CARDINAL)' "$out/app-window-icon.txt" || { echo "the window has no icon" >&2; exit 1; }
echo "the window has an icon (_NET_WM_ICON: $(wc -c <"$out/app-window-icon.txt") bytes as text)"
stop "$pid"

# 2. Remove the runtime as the README says, then interrupt a set-up hard during the PyTorch install.
ditto-desk --remove-runtime | tee "$out/remove-runtime.txt"
[ ! -e "$data/runtime" ] || { echo "--remove-runtime left the runtime" >&2; exit 1; }
pid=$(launch interrupted)
wait_until 300 in_log "^--- Install PyTorch" || { echo "set-up did not reach PyTorch" >&2; exit 1; }
sleep 1
kill_tree "$pid"
wait_until 10 gone "$pid"
[ ! -e "$data/runtime/ditto-desk-runtime.json" ] || { echo "an interrupted set-up left a stamp" >&2; exit 1; }
record "interrupted set-up: killed during the PyTorch install, runtime left half-built (no stamp)"

# 3. The next start detects the half-built runtime, builds it again and starts the app.
start=$(now)
pid=$(launch repair)
wait_until 900 app_window || { echo "no app window after the repair" >&2; tail -30 "$log" >&2; exit 1; }
record "start after the interruption: app window after $(since "$start") s (the half-built runtime rebuilt from scratch)"
grep -q "Removing the unfinished or outdated environment" "$log" || { echo "no repair in the log" >&2; exit 1; }
sleep 2
stop "$pid"

# 4. A later start: straight to the app.
start=$(now)
pid=$(launch later)
wait_until 120 app_window || { echo "no app window on a later start" >&2; exit 1; }
record "later start: app window after $(since "$start") s"
xwininfo -id "$(app_window_id)" | grep 'xwininfo: Window id'
alive "$pid" || { echo "the app window is not the app just started" >&2; exit 1; }
stop "$pid"

# 5. The installed app's smoke test, from a terminal.
start=$(now)
ditto-desk --self-test >"$out/self-test.txt" 2>&1 || { cat "$out/self-test.txt" >&2; exit 1; }
grep -v "Converting\|Loading weights" "$out/self-test.txt"
record "ditto-desk --self-test: passed in $(since "$start") s"

# 6. The user's own Python was not touched: nothing was installed into the user site-packages.
[ ! -e "$HOME/.local/lib" ] || { echo "something was installed into ~/.local/lib" >&2; exit 1; }
record "user site-packages (~/.local/lib): untouched; runtime $(du -sh "$data/runtime" | cut -f1)"
