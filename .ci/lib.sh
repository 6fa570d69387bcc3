# Shared by the scripts in .ci: source it. It sets REPO_ROOT and puts the
# installed Go first on PATH.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "go is not installed" >&2; exit 1; }

# modules prints the directory of every module of the repository, relative to
# its root, the root module (.) first: the directories holding a go.mod, less
# those that ./... patterns skip, as .ci/modproxy finds them.
modules() {
  (cd "$REPO_ROOT" && find . \( -name '.?*' -o -name '_*' -o -name testdata -o -name vendor \) -prune -o -name go.mod -print) |
    sed -e 's|^\./||' -e 's|/\?go\.mod$||' -e 's|^$|.|' | LC_ALL=C sort
}

# module_path DIR prints the path of the module in DIR.
module_path() {
  awk '$1 == "module" { gsub(/"/, "", $2); print $2; exit }' "$REPO_ROOT/$1/go.mod"
}

# next_version prints version.Next, the version the next release tags.
next_version() {
  local v
  v=$(sed -n 's/^const Next = "\(v[0-9][^"]*\)"$/\1/p' "$REPO_ROOT/internal/version/version.go" 2>/dev/null || true)
  [ -n "$v" ] || { echo "no 'const Next = \"vX.Y.Z\"' in internal/version/version.go" >&2; return 1; }
  echo "$v"
}

# tag_prefix DIR prints the prefix of the module in DIR's tags: "" for the
# root module, DIR/ for the others.
tag_prefix() {
  if [ "$1" = . ]; then echo ""; else echo "$1/"; fi
}

# timed LABEL COMMAND... runs COMMAND and prints how long it took.
timed() {
  local label=$1 start end status=0
  shift
  start=$(date +%s%N)
  "$@" || status=$?
  end=$(date +%s%N)
  printf '== %s: %d.%01ds%s\n' "$label" $(((end - start) / 1000000000)) $(((end - start) / 100000000 % 10)) \
    "$([ $status -eq 0 ] || echo " (FAILED, exit $status)")"
  return $status
}

# repo_requirements prints "DIR PATH VERSION" for each requirement that the
# go.mod of the module in DIR has on a module of the repository.
repo_requirements() {
  local dir root
  root=$(module_path .)
  for dir in $(modules); do
    awk -v dir="$dir" -v root="$root" '
      /^require \(/ { block = 1; next }
      block && /^\)/ { block = 0; next }
      block { p = $1; v = $2 }
      /^require [^(]/ { p = $2; v = $3 }
      (block || /^require /) && (p == root || index(p, root "/") == 1) { print dir, p, v }
      { p = "" }' "$REPO_ROOT/$dir/go.mod"
  done
}

# changelog_section NAME prints the lines of CHANGELOG.md's section "## [NAME]"
# ("0.2.0" or "Unreleased"), up to the next "## " heading; it fails when
# there is no such section.
changelog_section() {
  [ -f "$REPO_ROOT/CHANGELOG.md" ] || return 1
  awk -v name="$1" '
    /^## / { if (found) exit; if (index($0, "## [" name "]") == 1) { found = 1; next } }
    found { print }
    END { exit !found }' "$REPO_ROOT/CHANGELOG.md"
}

# semver_fields VERSION prints the major, minor and patch numbers of vX.Y.Z;
# it fails on anything else.
semver_fields() {
  [[ $1 =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] || return 1
  echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
}

# newest_tag DIR prints the newest release tag (PREFIXvX.Y.Z) of the module in
# DIR, or nothing when it has none.
newest_tag() {
  local prefix v
  prefix=$(tag_prefix "$1")
  v=$(git -C "$REPO_ROOT" tag -l "${prefix}v*" | while read -r tag; do
    semver_fields "${tag#"$prefix"}" >/dev/null && echo "${tag#"$prefix"}"
  done | sort -V | tail -n 1)
  [ -z "$v" ] || echo "$prefix$v"
}
