#!/usr/bin/env bash
# Checks that this directory is exactly sarama v1.61.1 (the non-test .go
# files, internal/queue, go.mod, LICENSE.md) with sluice.patch applied:
# downloads the release with `go mod download` (the Go module proxy), applies
# the patch to a copy and compares. Run by `make check-sarama-patch`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=v1.61.1
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
# Outside any module, so the repository's replace does not apply.
src="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/IBM/sarama@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
test -d "$src" || { echo "go mod download github.com/IBM/sarama@$version gave no directory" >&2; exit 1; }
mkdir -p "$work/want/internal/queue"
for f in "$src"/*.go; do
  case "$f" in *_test.go) ;; *) cp "$f" "$work/want/" ;; esac
done
cp "$src/internal/queue/queue.go" "$work/want/internal/queue/"
cp "$src/go.mod" "$src/LICENSE.md" "$work/want/"
chmod -R u+w "$work/want"
(cd "$work/want" && patch -s -p1 < "$here/sluice.patch")
if ! diff -r -x README.md -x sluice.patch -x verify.sh "$work/want" "$here"; then
  echo "third_party/sarama differs from sarama $version + sluice.patch" >&2
  exit 1
fi
echo "third_party/sarama is sarama $version with sluice.patch applied"
