#!/bin/bash
# contrib/debian/build.sh - build the Debian package crier_VERSION_ARCH.deb.
#
# The source tree keeps no debian/ at its top. This script copies a clean
# tree (the files git knows, as they are in the work tree, without build
# products; or a release tree as it is) into a temporary directory, puts
# contrib/debian in place there as debian/, and runs
# "dpkg-buildpackage -us -uc -b". The source tree is only read.
#
# Usage: contrib/debian/build.sh [-o OUTDIR] [--head] [--deps] [--lintian]
#   -o OUTDIR   where the .deb, .buildinfo and .changes go (default: .)
#   --head      build the last commit (git archive HEAD), not the work tree
#   --deps      install the build dependencies first (apt-get build-dep;
#               as root)
#   --lintian   run lintian on the result; its errors fail the build
# Environment: DEB_BUILD_OPTIONS as for dpkg-buildpackage (nocheck skips
# the unit tests, parallel=N); KEEP=1 keeps the temporary directory.
# Prints the path of the .deb on the last line.
set -u

out=.
head=0
deps=0
lint=0
while [ $# -gt 0 ]; do
    case $1 in
    -o) [ $# -ge 2 ] || { echo "build.sh: -o needs a directory" >&2; exit 2; }
        out=$2; shift ;;
    --head) head=1 ;;
    --deps) deps=1 ;;
    --lintian) lint=1 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

top=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
mkdir -p "$out" && out=$(cd "$out" && pwd) || { echo "build.sh: cannot use $out" >&2; exit 1; }

fail() {
    echo "build.sh: $*" >&2
    exit 1
}

# The package's version is configure.ac's; debian/changelog must say the
# same, or the .deb would carry another version than crierd --version.
version=$(sed -n 's/^AC_INIT(\[crier\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
[ -n "$version" ] || fail "no version in configure.ac's AC_INIT"
chversion=$(sed -n '1s/^crier (\([^)]*\)).*/\1/p' "$top/contrib/debian/changelog")
[ "$chversion" = "$version" ] \
    || fail "contrib/debian/changelog is at $chversion, configure.ac at $version: add a changelog entry for $version"

# Every library configure.ac requires (CRIER_NEED names its Debian
# package) must be a build dependency of the package.
builddeps=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
                 on && /^[A-Z][A-Za-z-]*:/ && !/^Build-Depends:/ { on = 0 }
                 on' "$top/contrib/debian/control" | tr ',|' '\n\n' | awk '{ print $1 }')
for p in $(sed -n 's/^CRIER_NEED(\[[^]]*\], *\[[^]]*\], *\[\([^]]*\)\]).*/\1/p' "$top/configure.ac"); do
    printf '%s\n' "$builddeps" | grep -qxF "$p" \
        || fail "configure.ac needs $p, which is not in contrib/debian/control's Build-Depends: add it there"
done

tmp=$(mktemp -d /tmp/crier-deb.XXXXXX) || fail "cannot make a temporary directory"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
src=$tmp/crier-$version
mkdir "$src" || fail "cannot make $src"

# copy_tree - a clean copy of the sources in $src (a subshell, for pipefail)
copy_tree() (
    set -o pipefail
    if [ "$head" = 1 ]; then
        git -C "$top" archive --format=tar HEAD | tar -x -C "$src"
        return $?
    fi
    if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # tracked and new files, not ignored ones; a file deleted in the
        # work tree but not yet in git is left out
        git -C "$top" ls-files -z --cached --others --exclude-standard \
            | while IFS= read -r -d '' f; do
                if [ -e "$top/$f" ]; then printf '%s\0' "$f"; fi
            done \
            | tar -C "$top" --null --no-recursion -T - -cf - | tar -x -C "$src"
        return $?
    fi
    # a release tree: everything but build directories
    tar -C "$top" --exclude='./build-*' --exclude=./debian -cf - . | tar -x -C "$src"
)
copy_tree || fail "cannot copy the source tree to $src"
[ -e "$src/debian" ] && fail "the source tree has a debian/ at its top; the packaging is contrib/debian"
cp -a "$src/contrib/debian" "$src/debian" || fail "cannot put contrib/debian in place"
rm -f "$src/debian/build.sh"

if [ "$deps" = 1 ]; then
    echo "build.sh: installing the build dependencies"
    DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q "$src" >"$tmp/deps.log" 2>&1 \
        || { tail -20 "$tmp/deps.log" >&2; fail "apt-get build-dep failed"; }
fi

echo "build.sh: dpkg-buildpackage -us -uc -b in $src"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
    grep -E '(error|warning):' "$tmp/build.log" | tail -20 >&2
    tail -15 "$tmp/build.log" >&2
    fail "dpkg-buildpackage failed (the whole log: KEEP=1, then $tmp/build.log)"
fi

arch=$(dpkg-architecture -qDEB_HOST_ARCH) || fail "dpkg-architecture failed"
deb=crier_${version}_$arch.deb
changes=crier_${version}_$arch.changes
[ -f "$tmp/$deb" ] || fail "dpkg-buildpackage made no $deb"
# the package, its -dbgsym companion, and the .buildinfo and .changes
cp "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes "$out/" \
    || fail "cannot copy the package to $out"

if [ "$lint" = 1 ]; then
    echo "build.sh: lintian"
    lintian --fail-on error --display-info "$out/$changes" || fail "lintian found errors"
fi
echo "$out/$deb"
