#!/usr/bin/env bash
# Builds the project's container images without a container engine or a registry, as
# docker-archives that `ctr images import` (scripts/node/node.sh import) loads into the node.
#
#   scripts/image/build.sh operator [--tag REF]...   the operator image, as the Dockerfile describes
#   scripts/image/build.sh pause                      the pod sandbox image (kubelet's pause)
#   scripts/image/build.sh flink VERSION              Flink VERSION as the official image lays it out
#
# operator: reads the Dockerfile (scripts/image/dockerfile.py) and does what it says without a
# container engine: the build stage's cmake configure (Release) and `cmake --install --strip` of
# this tree; a Debian root filesystem of the runtime stage's suite with its packages, from Debian's
# archive by debootstrap (cached: built once per package list, about 90 s); the programs copied in;
# its USER and ENTRYPOINT. Tagged docker.io/library/flink-operator:<chart appVersion> (what the
# chart's default image resolves to) and every --tag. Output: $FO_IMAGE_DIR (default
# build-image/images)/flink-operator.tar; prints its path.
# pause: kubelet's pause program, compiled static from the Kubernetes source tree kube-build.sh
# unpacked, as k8s.gcr.io/pause:3.2 (kubelet 1.20's default sandbox image). Output in the cache.
#
# Needs root for debootstrap only (sudo is used when not root). Cache: $FO_CACHE/images.
set -euo pipefail
# the system programs used here live in sbin, which a user's PATH often lacks
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/scripts/image
CACHE=${FO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flink-operator}
OUT=${FO_IMAGE_DIR:-$ROOT/build-image/images}
MIRROR=${FO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
mkdir -p "$CACHE/images" "$OUT"

step() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'image: %s\n' "$*" >&2; exit 1; }

# A layer tar of folder $1 into $2: numeric root ownership unless the files say otherwise,
# sorted names and fixed times, so the same files give the same layer.
layer_tar() {
  (cd "$1" && tar --numeric-owner --sort=name --mtime=@0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$2" $(ls -A))
}

# The Debian root filesystem of suite $1 with packages $2 as a layer tar; prints its path. $3
# (optional) is a shell command run in the root folder (as root) before it is packed.
base_rootfs() {
  local suite=$1 pkgs=$2 post=${3:-} key tarball
  key=$(printf '%s\n' "$suite" "$MIRROR" $pkgs "$post" | sort | sha256sum | cut -c1-16)
  tarball=$CACHE/images/rootfs-$suite-$key.tar
  if [ -f "$tarball" ]; then step "base: $suite + $pkgs (cached)"; echo "$tarball"; return 0; fi
  command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/install-deps.sh --node"
  local t0 tmp; t0=$(date +%s); tmp=$(mktemp -d "$CACHE/images/rootfs.XXXXXX")
  step "base: debootstrap --variant=minbase $suite from $MIRROR with ${pkgs// /,} (about 90 s, once)"
  if ! $SUDO debootstrap --variant=minbase --include="${pkgs// /,}" "$suite" "$tmp/root" "$MIRROR" > "$tmp/debootstrap.log" 2>&1; then
    tail -20 "$tmp/debootstrap.log" >&2; $SUDO rm -rf "$tmp"; die "debootstrap failed"
  fi
  # What a slim image leaves out; /dev, /proc and /sys are the runtime's; resolv.conf and
  # hostname are the pod's.
  $SUDO sh -c "cd '$tmp/root' && rm -rf var/cache/apt/* var/lib/apt/lists/* var/log/* usr/share/doc/* \
    usr/share/man/* usr/share/info/* usr/share/locale/* dev/* proc/* sys/* tmp/* etc/resolv.conf etc/hostname"
  if [ -n "$post" ]; then $SUDO sh -c "cd '$tmp/root' && $post"; fi
  $SUDO bash -c "$(declare -f layer_tar); layer_tar '$tmp/root' '$tmp/rootfs.tar'"
  $SUDO chown "$(id -u):$(id -g)" "$tmp/rootfs.tar"
  mv "$tmp/rootfs.tar" "$tarball"
  $SUDO rm -rf "$tmp"
  step "base: $(du -h "$tarball" | cut -f1) in $(( $(date +%s) - t0 )) s: $tarball"
  echo "$tarball"
}

build_operator() {
  local tags=() t0; t0=$(date +%s)
  while [ $# -gt 0 ]; do
    case $1 in
      --tag) tags+=("$2"); shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  local FO_SUITE FO_PACKAGES FO_CMAKE_OPTIONS FO_PROGRAMS FO_DEST FO_USER FO_ENTRYPOINT FO_CMD
  eval "$(python3 "$HERE/dockerfile.py" "$ROOT/Dockerfile")"
  local version; version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/charts/flink-operator/Chart.yaml")
  [ -n "$version" ] || die "no appVersion in charts/flink-operator/Chart.yaml"

  local bdir=$ROOT/build-image/build stage=$ROOT/build-image/stage
  step "programs: cmake $FO_CMAKE_OPTIONS (the Dockerfile's build stage)"
  # shellcheck disable=SC2086
  cmake -S "$ROOT" -B "$bdir" $FO_CMAKE_OPTIONS >/dev/null
  if ! cmake --build "$bdir" -j"$(nproc)" > "$bdir/make.log" 2>&1; then
    grep -v '^\[' "$bdir/make.log" | tail -40 >&2; die "build failed ($bdir/make.log)"
  fi
  rm -rf "$stage" "$ROOT/build-image/programs"
  DESTDIR=$stage cmake --install "$bdir" --strip >/dev/null
  local prog layer2=$ROOT/build-image/programs
  mkdir -p "$layer2/${FO_DEST#/}"
  for prog in $FO_PROGRAMS; do
    [ -x "$stage$prog" ] || die "the build did not install $prog"
    cp "$stage$prog" "$layer2/${FO_DEST#/}"
  done
  layer_tar "$layer2" "$ROOT/build-image/programs.tar"

  local base; base=$(base_rootfs "$FO_SUITE" "$FO_PACKAGES")
  local ref=docker.io/library/flink-operator:$version args=() tag
  for tag in "$ref" "${tags[@]}"; do args+=(--tag "$tag"); done
  local id; id=$(python3 "$HERE/archive.py" --out "$OUT/flink-operator.tar" "${args[@]}" --user "$FO_USER" \
    --entrypoint "$FO_ENTRYPOINT" --cmd "$FO_CMD" --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)" \
    "$base" "$ROOT/build-image/programs.tar")
  step "operator: $ref ${tags[*]} $id, $(du -h "$OUT/flink-operator.tar" | cut -f1), $(( $(date +%s) - t0 )) s"
  echo "$OUT/flink-operator.tar"
}

# Flink VERSION from PyPI (apache-flink: bin/ and conf/; apache-flink-libraries: lib/, opt/,
# plugins/) and its streaming examples from Maven Central, laid out as the official image is
# (FLINK_HOME=/opt/flink, the user flink 9999, /docker-entrypoint.sh, conf in /opt/flink/conf),
# on Debian with Debian's Java: Flink 1.18 and later on bookworm with Java 17; before 1.18 (Java 8
# and 11 only; bookworm has no Java 11) on bullseye with Java 11. Tagged flink:MAJOR.MINOR and
# flink:VERSION. Besides the examples, /opt/flink/examples/streaming/Counter.jar
# (flink/counter/Counter.java, compiled for the image's Java): a counter in keyed state that the
# tests read back through Flink's REST API.
FLINK_EXAMPLES="StateMachineExample:org.apache.flink.streaming.examples.statemachine.StateMachineExample
TopSpeedWindowing:org.apache.flink.streaming.examples.windowing.TopSpeedWindowing
WordCount:org.apache.flink.streaming.examples.wordcount.WordCount"
build_flink() {
  local v=${1:-}
  [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "usage: $0 flink VERSION (for example 1.20.3)"
  local minor=${v%.*} t0 dl=$CACHE/flink/$v out=$OUT/flink-$v.tar
  t0=$(date +%s)
  # MAJOR*100+MINOR (1.14 is 114, 2.2 is 202), for the version ranges below
  local n=$(( 10#${v%%.*} * 100 + 10#${minor#*.} ))
  # the Debian suite and Java: Flink runs on Java 17 from 1.18 on; before, on 8 and 11
  local suite=bookworm java=17
  if [ "$n" -lt 118 ]; then suite=bullseye java=11; fi
  mkdir -p "$dl"
  if ! compgen -G "$dl/apache_flink-$v-*.whl" >/dev/null; then
    # the wheels are per CPython version and a release has a few (1.14: 3.6 to 3.8; 1.20: 3.8 to
    # 3.11); only bin/ and conf/ are taken, the same in each, so the first that PyPI has will do
    step "flink $v: bin/ and conf/ (PyPI apache-flink)"
    local py got=""
    for py in 3.11 3.12 3.10 3.9 3.8 3.7 3.6; do
      # 3.6 and 3.7 wheels are tagged cp36m and cp37m
      if pip download -q --no-deps --only-binary=:all: --python-version "$py" --platform manylinux2014_x86_64 \
        --implementation cp --abi "cp${py/./}" --abi "cp${py/./}m" -d "$dl" "apache-flink==$v" >/dev/null 2>&1; then
        got=$py; break
      fi
    done
    [ -n "$got" ] || die "pip download apache-flink==$v failed (no manylinux x86_64 wheel for CPython 3.6 to 3.12)"
  fi
  # the sdist is apache-flink-libraries-V.tar.gz up to 1.20, apache_flink_libraries-V.tar.gz after
  local libs; libs=$(compgen -G "$dl/apache[-_]flink[-_]libraries-$v.tar.gz" | head -1 || true)
  if [ -z "$libs" ]; then
    step "flink $v: lib/, opt/, plugins/ (PyPI apache-flink-libraries, 230 to 310 MB, once)"
    pip download -q --no-deps --no-binary=:all: -d "$dl" "apache-flink-libraries==$v" >&2 || die "pip download apache-flink-libraries==$v failed"
    libs=$(compgen -G "$dl/apache[-_]flink[-_]libraries-$v.tar.gz" | head -1 || true)
    [ -n "$libs" ] || die "pip download apache-flink-libraries==$v left no sdist in $dl"
  fi
  local base; base=$(base_rootfs "$suite" "openjdk-$java-jre-headless procps" \
    "echo 'flink:x:9999:9999::/opt/flink:/bin/bash' >> etc/passwd && echo 'flink:x:9999:' >> etc/group")
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/flink/opt/flink" "$tmp/entry"
  local home=$tmp/flink/opt/flink
  python3 -m zipfile -e "$dl"/apache_flink-"$v"-*.whl "$tmp/whl" >/dev/null
  cp -r "$tmp/whl/pyflink/bin" "$tmp/whl/pyflink/conf" "$home/"
  mkdir -p "$tmp/libs"
  tar xzf "$libs" -C "$tmp/libs"
  local deps; deps=$(compgen -G "$tmp/libs/apache[-_]flink[-_]libraries-$v/deps" | head -1 || true)
  [ -n "$deps" ] || die "no deps/ in $libs"
  cp -r "$deps/lib" "$deps/opt" "$deps/plugins" "$home/"
  cp "$deps"/bin/*.jar "$home/bin/" # bash-java-utils.jar: memory settings
  # flink-dist-V.jar from 1.15 on; before, flink-dist_SCALA-V.jar (PyPI's 1.14 is Scala 2.11)
  local dist; dist=$(compgen -G "$home/lib/flink-dist*-$v.jar" | head -1 || true)
  [ -n "$dist" ] || die "no lib/flink-dist*-$v.jar in apache-flink-libraries $v"
  [ -f "$home/bin/bash-java-utils.jar" ] || die "no bin/bash-java-utils.jar in apache-flink-libraries $v"
  local scala=""
  if [[ ${dist##*/} =~ ^flink-dist(_[0-9.]+)-$v\.jar$ ]]; then scala=${BASH_REMATCH[1]}; fi
  local ex=$dl/flink-examples-streaming.jar
  if [ ! -f "$ex" ]; then
    # examples are published for the minor's first release, before 1.15 with the Scala suffix
    # (the distribution's); Flink 1 images must have them (the README's examples run them), a
    # Flink 2 image does without when Maven Central has none
    local ev=$minor.0 m2=${MAVEN_REPO:-$HOME/.m2/repository} art=flink-examples-streaming$scala
    step "flink $v: streaming examples $ev (Maven Central org.apache.flink:$art)"
    if mvn -q -U dependency:get -Dartifact="org.apache.flink:$art:$ev" -Dtransitive=false >/dev/null 2>&1; then
      cp "$m2/org/apache/flink/$art/$ev/$art-$ev.jar" "$ex"
    elif [ "${v%%.*}" -ge 2 ]; then
      step "flink $v: Maven Central has no $art $ev here: the image carries Counter.jar alone"
    else
      die "mvn dependency:get $art:$ev failed"
    fi
  fi
  mkdir -p "$home/log" "$home/usrlib" "$home/examples/streaming"
  local line
  if [ -f "$ex" ]; then
    while IFS= read -r line; do
      python3 "$HERE/jar-main.py" "$ex" "${line#*:}" "$home/examples/streaming/${line%%:*}.jar"
    done <<< "$FLINK_EXAMPLES"
  fi
  # the stateful job whose state the tests read back, built against this distribution's jars for
  # the image's Java. Before 1.19 (no OpenContext) a rich function's open takes the Configuration.
  mkdir -p "$tmp/counter" "$tmp/src"
  cp "$HERE/flink/counter/Counter.java" "$tmp/src/Counter.java"
  if [ "$n" -lt 119 ]; then
    sed -i -e 's/^import org\.apache\.flink\.api\.common\.functions\.OpenContext;$/import org.apache.flink.configuration.Configuration;/' \
      -e 's/open(OpenContext ctx)/open(Configuration ctx)/' "$tmp/src/Counter.java"
  fi
  javac -nowarn --release "$java" -cp "$home/lib/*" -d "$tmp/counter" "$tmp/src/Counter.java" >&2 \
    || die "flink $v: the Counter job does not build against its jars"
  jar --create --file "$home/examples/streaming/Counter.jar" --main-class flinkop.examples.Counter -C "$tmp/counter" . >&2
  chmod +x "$home"/bin/*
  cp "$HERE/flink/docker-entrypoint.sh" "$tmp/entry/docker-entrypoint.sh"
  chmod 755 "$tmp/entry/docker-entrypoint.sh"
  (cd "$tmp/flink" && tar --owner=9999 --group=9999 --numeric-owner --sort=name --mtime=@0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$tmp/flink.tar" opt)
  layer_tar "$tmp/entry" "$tmp/entry.tar"
  local id; id=$(python3 "$HERE/archive.py" --out "$out" --tag "docker.io/library/flink:$minor" --tag "docker.io/library/flink:$v" \
    --entrypoint '["/docker-entrypoint.sh"]' --cmd '["help"]' --workdir /opt/flink \
    --env FLINK_HOME=/opt/flink --env JAVA_HOME=/usr/lib/jvm/java-$java-openjdk-amd64 \
    --env PATH=/opt/flink/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label "org.opencontainers.image.version=$v" "$base" "$tmp/flink.tar" "$tmp/entry.tar")
  rm -rf "$tmp"
  step "flink: flink:$minor flink:$v $id, $(du -h "$out" | cut -f1), $(( $(date +%s) - t0 )) s"
  echo "$out"
}

build_pause() {
  local src=$CACHE/kube-1.20.2/pause.c out=$CACHE/images/pause-3.2.tar
  if [ -f "$out" ] && [ "$out" -nt "$src" ]; then echo "$out"; return 0; fi
  [ -f "$src" ] || die "$src missing: run tests/e2e/kube-build.sh"
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/root"
  gcc -Os -static -o "$tmp/root/pause" "$src"
  strip "$tmp/root/pause"
  layer_tar "$tmp/root" "$tmp/layer.tar"
  python3 "$HERE/archive.py" --out "$out" --tag k8s.gcr.io/pause:3.2 --user 65535:65535 \
    --entrypoint '["/pause"]' "$tmp/layer.tar" >/dev/null
  rm -rf "$tmp"
  step "pause: k8s.gcr.io/pause:3.2 ($out)"
  echo "$out"
}

case ${1:-} in
  operator) shift; build_operator "$@" ;;
  pause) build_pause ;;
  flink) shift; build_flink "$@" ;;
  *) echo "usage: $0 operator [--tag REF]... | pause | flink VERSION" >&2; exit 2 ;;
esac
