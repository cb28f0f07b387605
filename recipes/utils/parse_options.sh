#!/usr/bin/env bash
# Kaldi-convention option parser, sourced after the caller has set its defaults:
#   --foo-bar VALUE sets the shell variable foo_bar (which must already exist),
#   --config FILE sources FILE first (it may set any of those variables),
#   --help / -h prints $help_message and the current values.
# Booleans (variables whose default is true or false) only take true or false.
# Parsing stops at the first argument that is not an option; "$@" keeps the rest.

# The caller may set _vs_opt_names (variables to list under --help) and _vs_opt_source (the
# file whose "name=value  # comment" lines give each option's description).
_vs_opt_help() {
  echo -e "${help_message:-}" >&2
  if [[ -n "${_vs_opt_names:-}" ]]; then
    echo "Options (current values):" >&2
    for _n in ${_vs_opt_names}; do
      _doc=""
      if [[ -n "${_vs_opt_source:-}" ]]; then
        _doc="$(sed -n "s/^${_n}=[^#]*#[[:space:]]*//p" "${_vs_opt_source}" | head -n 1)"
      fi
      printf '  --%-22s %-22s %s\n' "${_n//_/-}" "'${!_n}'" "${_doc}" >&2
    done
  fi
}

# --config first, so that command-line options override the file.
for ((_i = 1; _i <= $#; _i++)); do
  if [[ "${!_i}" == "--config" ]]; then
    _j=$((_i + 1))
    _cfg="${!_j:-}"
    if [[ -z "${_cfg}" || ! -f "${_cfg}" ]]; then
      echo "$0: --config: no such file: '${_cfg}'" >&2
      exit 1
    fi
    # shellcheck disable=SC1090
    . "${_cfg}"
  fi
done

while true; do
  [[ -z "${1:-}" ]] && break
  case "$1" in
    --help|-h)
      _vs_opt_help
      exit 0
      ;;
    --config)
      shift 2
      ;;
    --*=*)
      echo "$0: write options as '--name value', not '$1'" >&2
      exit 1
      ;;
    --*)
      _name="${1#--}"
      _name="${_name//-/_}"
      if [[ -z "${!_name+x}" ]] || [[ ! "${_name}" =~ ^[a-z_][a-z0-9_]*$ ]]; then
        echo "$0: unknown option $1 (see $0 --help)" >&2
        exit 1
      fi
      if [[ $# -lt 2 ]]; then
        echo "$0: option $1 needs a value" >&2
        exit 1
      fi
      _old="${!_name}"
      if [[ "${_old}" == "true" || "${_old}" == "false" ]] \
          && [[ "$2" != "true" && "$2" != "false" ]]; then
        echo "$0: option $1 takes true or false, not '$2'" >&2
        exit 1
      fi
      printf -v "${_name}" '%s' "$2"
      shift 2
      ;;
    *)
      break
      ;;
  esac
done
unset _i _j _cfg _name _old
true
