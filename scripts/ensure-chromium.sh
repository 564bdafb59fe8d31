#!/usr/bin/env bash
# Installs Debian's chromium (for the headless browser test) when it is missing and we may use apt.
# Without it the browser test is skipped, and pytest's summary says so.
set -u
if [ -x /usr/bin/chromium ]; then  # the browser test uses exactly this binary
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: chromium not installed and apt-get not usable here; the browser test will be skipped" >&2
  exit 0
fi
echo "installing Debian chromium for the browser test..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null \
  || echo "note: could not install chromium; the browser test will be skipped" >&2
exit 0
