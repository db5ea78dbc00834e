#!/usr/bin/env bash
# Debian packages the end-to-end tests drive for real: Chromium (the plugin in a browser), Prometheus and promtool
# (scraping /metrics, rule tests), rsyslog (a real syslog client), and nats-server (JetStream) and PostgreSQL 15 for
# cluster mode's tests. Installs only what is missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v rsyslogd >/dev/null || missing+=(rsyslog)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
