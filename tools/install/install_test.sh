#!/usr/bin/env bash
# Installs into a temporary prefix (with a space in its name) and runs the
# installed binaries. Usage: install_test.sh INSTALL.SH HELP2MAN NAME=PATH...
set -euo pipefail

install=$1
shift
prefix="${TEST_TMPDIR:-/tmp}/install test/prefix"
rm -rf "$prefix"

fail() { echo "FAIL: $*" >&2; exit 1; }

# Relative to the folder bazel run was started in.
mkdir -p "${TEST_TMPDIR:-/tmp}/install test"
BUILD_WORKING_DIRECTORY="${TEST_TMPDIR:-/tmp}/install test" \
  "$install" "$@" --prefix prefix > install.log
cat install.log

names=()
for a in "$@"; do
  [[ $a == *=* ]] && names+=("${a%%=*}")
done
[[ ${#names[@]} -eq 6 ]] || fail "expected 6 binaries, got ${names[*]}"

for name in "${names[@]}"; do
  bin="$prefix/bin/$name"
  man="$prefix/share/man/man1/$name.1"
  [[ -x $bin && ! -L $bin ]] || fail "$bin is not an installed executable"
  [[ -s $man ]] || fail "$man missing"
  head -1 "$man" | grep -q "^\.TH \"${name^^}\" \"1\"" || fail "$man: no .TH line"
  grep -q '^\.SH DESCRIPTION' "$man" || fail "$man: no DESCRIPTION"
  # --help: text on stdout, nothing on stderr. The server's flags library
  # (absl) exits 1 after --help; every other tool exits 0.
  set +e
  "$bin" --help > out.txt 2> err.txt
  rc=$?
  set -e
  [[ -s out.txt ]] || fail "$name --help printed nothing on stdout"
  [[ ! -s err.txt ]] || fail "$name --help wrote on stderr: $(cat err.txt)"
  if [[ $name != realm-measurements-server ]]; then
    [[ $rc -eq 0 ]] || fail "$name --help exit status $rc"
  fi
  # The man page holds the help text (its first non-empty line).
  first=$(grep -m1 -v '^[[:space:]]*$' out.txt | sed 's/^[Uu]sage: *//')
  grep -qF -- "${first:0:40}" "$man" || fail "$man lacks '${first:0:40}'"
  if command -v man > /dev/null; then
    MANWIDTH=100 man -l "$man" > /dev/null 2>&1 || fail "man -l $man"
  fi
done

# Subcommand help before any other argument check (issue 19).
for args in "cca-token verify --help" "cca-token appraise x.cbor --help" \
            "corim decode --help" "eventlog replay --help" \
            "realm-measurements kvmtool --help" "realm-measurements qemu --help" \
            "realm-measurements cloud-hv --help"; do
  read -r -a words <<< "$args"
  "$prefix/bin/${words[0]}" "${words[@]:1}" > out.txt 2> err.txt ||
    fail "$args: exit status $?"
  [[ -s out.txt && ! -s err.txt ]] || fail "$args: $(cat err.txt)"
done

# The installed CLI measures (no runfiles needed), as the built one does.
built=
for a in "$@"; do
  [[ $a == realm-measurements=* ]] && built=${a#*=}
done
configs=$(dirname "$(readlink -f configs/fvp.conf)")
args=(-c "$configs/fvp.conf" -c "$configs/rmm-1.0-eac5.conf"
      kvmtool --realm -c 2 -m 512M)
installed_out=$(cd / && "$prefix/bin/realm-measurements" "${args[@]}")
built_out=$("$built" "${args[@]}")
[[ $installed_out == RIM:* && $installed_out == "$built_out" ]] ||
  fail "installed: $installed_out; built: $built_out"
echo "PASS"
