#!/usr/bin/env bash
# Set up everything vs_plugin needs on a fresh machine: system packages, a virtual environment
# in tools/venv (override with VS_VENV=/path), and the package itself (editable, with its dev
# extra). Idempotent: when setup.cfg has not changed since the last run, it only checks.
#   --with-demo   also install the demo extra (vs-demo, the generation page)
# Headless Chromium and its driver (apt packages chromium, chromium-driver) come with the system
# packages: the browser tests of the listening page and the demo need them (VS_NO_BROWSER=1 skips
# them; those tests are then skipped). A fresh install adds about a minute and 350 MB.
set -euo pipefail

with_demo=false
for arg in "$@"; do
  case "${arg}" in
    --with-demo) with_demo=true ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option ${arg} (known: --with-demo)" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VS_VENV:-${repo}/tools/venv}"
python="${PYTHON:-python3}"
stamp="${venv}/.vs_plugin-install-stamp"
# The sound-effects embedding of the sfx_similarity scorer. Its metadata pins old librosa and
# numpy releases that it does not need (it uses torch and numpy only; the scorer computes its
# front end itself), so it is installed without dependencies, outside setup.cfg's resolution.
AISFX_VERSION=0.1.2

say() { echo "[install $(date '+%H:%M:%S')] $*"; }

# -- system packages ------------------------------------------------------------------------
need_apt=()
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need_apt+=(ffmpeg)
ldconfig -p 2>/dev/null | grep -q 'libsndfile\.so\.1' || need_apt+=(libsndfile1)
need_browser=()
if [[ "${VS_NO_BROWSER:-0}" != 1 ]]; then
  command -v chromium >/dev/null 2>&1 || need_browser+=(chromium fonts-liberation)
  command -v chromedriver >/dev/null 2>&1 || need_browser+=(chromium-driver)
fi
if ((${#need_browser[@]})); then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    need_apt+=("${need_browser[@]}")
  else
    echo "install.sh: no headless browser (${need_browser[*]}): the browser tests will be" \
      "skipped. Install it as root: sudo apt-get install -y ${need_browser[*]}" >&2
  fi
fi
if ((${#need_apt[@]})); then
  mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | sort -u)
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "install.sh: missing system packages: ${need_apt[*]}." >&2
    echo "  Install them as root, e.g.: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
else
  say "system packages present (ffmpeg, libsndfile1$([[ ${VS_NO_BROWSER:-0} == 1 ]] || echo ', chromium'))"
fi

# -- virtual environment --------------------------------------------------------------------
if [[ ! -x "${venv}/bin/python" ]]; then
  say "creating virtual environment ${venv}"
  "${python}" -m venv "${venv}"
fi

want="$( (cat "${repo}/setup.cfg" "${repo}/pyproject.toml"; echo "aisfx ${AISFX_VERSION}") | sha256sum | cut -d' ' -f1)"
extras=dev
[[ "${with_demo}" == true ]] && extras=dev,demo
# the stamp is "<hash> <extras>"; an install with the demo also serves a run without it
read -r have_hash have_extras 2>/dev/null < "${stamp}" || true
if [[ "${have_hash:-}" == "${want}" ]] && [[ "${with_demo}" == false || "${have_extras:-}" == *demo* ]] \
    && "${venv}/bin/python" -c "import vs_plugin" >/dev/null 2>&1; then
  say "Python packages up to date (${venv})"
  exit 0
fi

say "installing Python packages into ${venv} (torch, fairseq2, ...; a few minutes the first time)"
log="${venv}/install.log"
if ! { "${venv}/bin/python" -m pip install --disable-pip-version-check --upgrade pip 'setuptools<81' wheel \
       && "${venv}/bin/python" -m pip install --disable-pip-version-check -e "${repo}[${extras}]" \
       && "${venv}/bin/python" -m pip install --disable-pip-version-check --no-deps \
            "aisfx==${AISFX_VERSION}"; } >"${log}" 2>&1; then
  tail -n 30 "${log}" >&2
  echo "install.sh: pip failed; the whole log is ${log}" >&2
  exit 1
fi
echo "${want} ${extras}" > "${stamp}"
say "done: $("${venv}/bin/python" -c 'import torch, vs_plugin; print("vs_plugin", vs_plugin.__version__, "torch", torch.__version__)')"
