#!/usr/bin/env bash
# Debian packages the tests need: Chromium for Odoo tours, Apache (mod_dav) as a second
# real WebDAV server. Installed when missing and we may (root with apt-get); otherwise
# say what is missing; the tests that need them then fail loudly, never skip.
set -u
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing Debian packages: ${missing[*]} (install them with apt-get)" >&2
fi
