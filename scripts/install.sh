#!/usr/bin/env bash
# Installs whatever Edgecart needs and is missing: Debian packages, the Python virtualenv with
# the project, npm packages and the static build. A second run checks and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postgresql postgresql-contrib redis-server varnish varnish-modules chromium
              python3-venv nodejs npm fonts-dejavu-core wrk nginx)
say() { printf 'install: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in "${APT_PACKAGES[@]}"; do
  # npm/node may come from elsewhere (nvm, NodeSource); only ask apt when the command is absent.
  case "$package" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

stamp() { sha256sum "$@" | sha256sum | cut -c1-16; }

python_stamp=$(stamp pyproject.toml)
if [ ! -x .venv/bin/python ]; then
  say "creating the virtualenv in .venv"
  python3 -m venv .venv
fi
if [ "$(cat .venv/.edgecart-stamp 2>/dev/null)" != "$python_stamp" ]; then
  say "installing Python packages (pyproject.toml changed or first run)"
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install -q --upgrade pip \
         && .venv/bin/python -m pip install -q -e '.[test]'; } >"$log" 2>&1; then
    cat "$log" >&2
    say "pip install failed (log above, also in $log)"
    exit 1
  fi
  echo "$python_stamp" > .venv/.edgecart-stamp
fi

node_stamp=$(stamp package.json)
if [ "$(cat node_modules/.edgecart-stamp 2>/dev/null)" != "$node_stamp" ]; then
  say "installing npm packages (package.json changed or first run)"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
  echo "$node_stamp" > node_modules/.edgecart-stamp
fi

.venv/bin/edgecart assets >/dev/null
say "ready"
