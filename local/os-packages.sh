#!/usr/bin/env bash
# The one check of the operating-system packages the project needs, shared by `make run`,
# `make test`, `make package` and `.ci/run`:
#
#   bash local/os-packages.sh run|test|package|ci
#
# What is missing is installed under CI=true (as root, with apt-get); otherwise the script asks
# when stdin is a terminal, or stops and prints the one command to run. Go is not installed here
# (Debian 12's golang-go is 1.19, too old to build FerretDB): the script says where to get it.
set -euo pipefail

profile="${1:-run}"
case "$profile" in run | test | package | ci) ;; *) echo "usage: $0 run|test|package|ci" >&2; exit 2 ;; esac
root="$(cd "$(dirname "$0")/.." && pwd)"
font_dir="${PDF_FONT_DIR:-/usr/share/fonts/truetype/noto}"

need=()
reasons=()
missing() { need+=("$1"); reasons+=("  $1: $2"); }

if [ "$profile" = ci ]; then
  command -v python3 >/dev/null || missing python3 "Python 3.11 or newer"
  command -v make >/dev/null || missing make "the Makefile's commands"
  command -v git >/dev/null || missing git "the checkout"
fi
if [ ! -x "$root/.venv/bin/python" ] && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing python3-venv "creating .venv/"
fi
# Prescription PDFs: the PDF route under make run, the SDK layer `make package` builds, the tests.
if [ ! -f "$font_dir/NotoSans-Regular.ttf" ] || [ ! -f "$font_dir/NotoSansDevanagari-Regular.ttf" ]; then
  missing fonts-noto-core "the Noto Sans fonts of prescription PDFs (in $font_dir)"
fi
if [ "$profile" = test ] || [ "$profile" = ci ]; then
  command -v pdftoppm >/dev/null || missing poppler-utils "pdftoppm, which renders the PDFs in the tests"
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || command -v chromium >/dev/null ||
    missing chromium "the browser tests (the call page, the docs page)"
  # make client-check (run by make test): openapi-typescript from clients/package-lock.json (npm ci)
  command -v node >/dev/null || missing nodejs "Node.js, which runs openapi-typescript (make client)"
  command -v npm >/dev/null || missing npm "npm ci of clients/package-lock.json (make client)"
fi
go_problem=""
if [ "$profile" != package ] && [ -z "${MONGODB_URI:-}" ]; then
  # The embedded database keeps its data in a private PostgreSQL cluster (SQLite if chosen).
  if [ "${EMBEDDED_DB_BACKEND:-}" != sqlite ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 &&
    ! command -v initdb >/dev/null; then
    missing postgresql "the embedded database's storage (or EMBEDDED_DB_BACKEND=sqlite, or MONGODB_URI)"
  fi
  # FerretDB and stripe-mock are built from their Go modules into .bin/.
  if ! command -v go >/dev/null; then
    go_problem="Go is not on PATH"
  else
    version="$(go env GOVERSION 2>/dev/null || true)"
    IFS=. read -r major minor _ <<<"${version#go}"
    if [ "${major:-0}" -lt 1 ] || { [ "${major:-0}" -eq 1 ] && [ "${minor:-0}" -lt 21 ]; }; then
      go_problem="Go ${version#go} is too old"
    fi
  fi
fi

if [ -n "$go_problem" ]; then
  echo "$go_problem: Go 1.21 or newer builds the embedded database and stripe-mock (https://go.dev/dl/;" \
    "Debian 12's golang-go is 1.19, too old). Or set MONGODB_URI to a MongoDB server." >&2
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo "
  command="${sudo}apt-get update && ${sudo}apt-get install -y ${need[*]}"
  echo "Missing operating-system packages (Debian names):" >&2
  printf '%s\n' "${reasons[@]}" >&2
  if [ "${CI:-}" = true ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
      echo "CI=true, but not root with apt-get: install them first: $command" >&2
      exit 1
    fi
    echo "installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  elif [ -t 0 ] && command -v apt-get >/dev/null; then
    read -r -p "Install them now ($command)? [y/N] " answer
    case "$answer" in
      y | Y | yes) ${sudo}apt-get update && ${sudo}apt-get install -y "${need[@]}" ;;
      *) echo "Not installed. Run: $command" >&2; exit 1 ;;
    esac
  else
    echo "Run: $command" >&2
    exit 1
  fi
fi
[ -z "$go_problem" ] || exit 1
