#!/usr/bin/env bash
# Builds a devproxy release into dist/:
#
#   ./release/build.sh VERSION              every platform
#   ./release/build.sh VERSION linux-x64    only the platforms named
#
# dist/npm/ gets the npm tarballs (devproxy-VERSION.tgz, one
# devproxy-PLATFORM-VERSION.tgz per platform), dist/ an archive per platform
# (devproxy-VERSION-PLATFORM.tar.gz, .zip for Windows) and SHA256SUMS. The
# same commit, version and Go toolchain give byte-identical files. DIST=dir
# writes elsewhere. Needs Go, npm, GNU tar, gzip, and zip for Windows.
set -euo pipefail

all=(linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64 win32-arm64)

if [ $# -lt 1 ]; then
  echo "usage: ./release/build.sh VERSION [PLATFORM...]" >&2
  echo "platforms: ${all[*]}" >&2
  exit 2
fi
version=$1
shift
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "build.sh: error: version \"$version\" is not of the form MAJOR.MINOR.PATCH[-PRE]" >&2
  echo "build.sh: hint: write it as npm does, without a v: ./release/build.sh ${version#v}" >&2
  exit 2
fi
platforms=("$@")
if [ ${#platforms[@]} -eq 0 ]; then
  platforms=("${all[@]}")
fi

root=$(cd "$(dirname "$0")/.." && pwd)
dist=${DIST:-$root/dist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$dist"
mkdir -p "$dist/npm"

# Archive entries get one fixed time and owner, so that they depend on their
# content only (npm pack does the same for its tarballs).
export TZ=UTC
stamp=198510260815

# fill TEMPLATE OUT: copy TEMPLATE with its @NAME@ placeholders filled in.
fill() {
  sed -e "s/@VERSION@/$version/g" -e "s/@PLATFORM@/${platform:-}/g" \
    -e "s/@OS@/${npmos:-}/g" -e "s/@CPU@/${cpu:-}/g" -e "s/@EXE@/${exe:-}/g" "$1" >"$2"
}

pack() {
  (cd "$dist/npm" && npm pack --silent "$1" >/dev/null)
}

for platform in "${platforms[@]}"; do
  case $platform in
    linux-x64 | linux-arm64 | darwin-x64 | darwin-arm64 | win32-x64 | win32-arm64) ;;
    *)
      echo "build.sh: error: unknown platform \"$platform\"" >&2
      echo "build.sh: hint: pick from ${all[*]}" >&2
      exit 2
      ;;
  esac
  npmos=${platform%-*}
  cpu=${platform#*-}
  goos=$npmos
  [ "$goos" = win32 ] && goos=windows
  goarch=$cpu
  [ "$goarch" = x64 ] && goarch=amd64
  exe=devproxy
  [ "$goos" = windows ] && exe=devproxy.exe

  pkg=$work/$platform
  mkdir -p "$pkg/bin"
  # -trimpath and -buildvcs=false keep the checkout's path and state out of
  # the binary; -s -w strip the symbol table and DWARF.
  (cd "$root" && CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X main.version=$version" -o "$pkg/bin/$exe" .)
  chmod 0755 "$pkg/bin/$exe"
  fill "$root/npm/platform/package.json" "$pkg/package.json"
  fill "$root/npm/platform/README.md" "$pkg/README.md"
  pack "$pkg"

  plain=$work/plain-$platform
  mkdir -p "$plain"
  cp "$pkg/bin/$exe" "$plain/"
  touch -t "$stamp" "$plain/$exe"
  name=devproxy-$version-$platform
  if [ "$goos" = windows ]; then
    (cd "$plain" && zip -q -X "$dist/$name.zip" "$exe")
  else
    tar --sort=name --owner=0 --group=0 --numeric-owner -C "$plain" -cf - "$exe" | gzip -n -9 >"$dist/$name.tar.gz"
  fi
done

main=$work/devproxy
mkdir -p "$main/bin"
fill "$root/npm/devproxy/package.json" "$main/package.json"
cp "$root/npm/devproxy/README.md" "$main/README.md"
cp "$root/npm/devproxy/bin/devproxy.js" "$main/bin/devproxy.js"
chmod 0755 "$main/bin/devproxy.js"
pack "$main"

(cd "$dist" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
(cd "$dist" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs wc -c | grep -v ' total$')
