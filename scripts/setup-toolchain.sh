#!/usr/bin/env bash
# Makes the local rig's toolchain available in a cache outside git, building what is missing from the
# package registries (Go module proxy, Maven Central, PyPI, Debian). Binaries already in the cache or on PATH
# are reused, so a warm run takes seconds. Prints the directory holding the binaries on its last line.
#
#   MERIDIAN_CACHE   cache root (default: $XDG_CACHE_HOME/meridian or ~/.cache/meridian)
#   MERIDIAN_ONLY    space-separated subset to build
#                    (temporal temporal-server test-server kube etcd kwok helm geoip-db moto debs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../toolchain/versions.env
source "$here/toolchain/versions.env"

cache=${MERIDIAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meridian}
bin="$cache/bin"
mkdir -p "$bin" "$cache/build" "$cache/logs"
export GOBIN="$bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false
started=$(date +%s)

say() { printf '[setup %4ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
wanted() { [ -z "${MERIDIAN_ONLY:-}" ] || [[ " $MERIDIAN_ONLY " == *" $1 "* ]]; }

# A binary is reusable when the cache holds it for the pinned version (a stamp file records which).
have() { # name version
  [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]
}
stamp() { echo "$2" >"$bin/.$1.version"; }

# Runs a long step with its output in a log file, so a failure shows the tail instead of 10k lines.
logged() { # name command...
  local name=$1 log="$cache/logs/$1.log"; shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "building $name failed (full log: $log)"
  fi
}

require() { # command hint
  command -v "$1" >/dev/null 2>&1 || die "missing prerequisite '$1': $2"
}

need_go() { require go "install Go 1.24 or newer (https://go.dev/dl) and put it on PATH"; }

# Temporal CLI: the dev server with the Web UI.
if wanted temporal; then
  if have temporal "$TEMPORAL_CLI_VERSION"; then :
  elif command -v temporal >/dev/null && temporal --version 2>/dev/null | grep -q "${TEMPORAL_CLI_VERSION#v}"; then
    ln -sf "$(command -v temporal)" "$bin/temporal"; stamp temporal "$TEMPORAL_CLI_VERSION"
  else
    need_go
    say "building the Temporal CLI $TEMPORAL_CLI_VERSION from the Go module proxy (about 3-6 minutes cold)"
    logged temporal go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
    stamp temporal "$TEMPORAL_CLI_VERSION"
  fi
fi

# The Temporal server as production runs it (the version the Temporal CLI pins), its SQL schema tool and
# the standalone Web UI server, for the rig's production profile. `go install` names the server and the
# UI server both `server`, so each is renamed as soon as it is built. The server's schema and config
# folders are copied out of the Go module cache, which may be cleaned later.
if wanted temporal-server; then
  server_dir="$cache/temporal-server-$TEMPORAL_SERVER_VERSION"
  if ! have temporal-server "$TEMPORAL_SERVER_VERSION" || ! have temporal-sql-tool "$TEMPORAL_SERVER_VERSION" || [ ! -d "$server_dir/schema" ]; then
    need_go
    say "building the Temporal server $TEMPORAL_SERVER_VERSION and temporal-sql-tool (about 5-8 minutes cold)"
    logged temporal-server go install "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION"
    mv -f "$bin/server" "$bin/temporal-server"
    logged temporal-sql-tool go install "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
    mv -f "$bin/sql" "$bin/temporal-sql-tool"
    module=$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION
    rm -rf "$server_dir"; mkdir -p "$server_dir/schema"
    cp -r "$module/schema/postgresql" "$server_dir/schema/"
    cp -r "$module/config" "$server_dir/config"
    chmod -R u+w "$server_dir"
    stamp temporal-server "$TEMPORAL_SERVER_VERSION"; stamp temporal-sql-tool "$TEMPORAL_SERVER_VERSION"
  fi
  if ! have temporal-ui-server "$TEMPORAL_UI_SERVER_VERSION"; then
    need_go
    say "building the Temporal Web UI server $TEMPORAL_UI_SERVER_VERSION (about 2-4 minutes cold)"
    logged temporal-ui-server go install "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION"
    mv -f "$bin/server" "$bin/temporal-ui-server"
    stamp temporal-ui-server "$TEMPORAL_UI_SERVER_VERSION"
  fi
fi

# KWOK: simulated nodes and pods over a real control plane.
if wanted kwok; then
  if ! have kwok "$KWOK_VERSION" || ! have kwokctl "$KWOK_VERSION"; then
    need_go
    say "building kwok and kwokctl $KWOK_VERSION (about 2-4 minutes cold)"
    logged kwok go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
    stamp kwok "$KWOK_VERSION"; stamp kwokctl "$KWOK_VERSION"
  fi
fi

# Helm: renders the release's chart.
if wanted helm; then
  if ! have helm "$HELM_VERSION"; then
    need_go
    say "building helm $HELM_VERSION (about 2-4 minutes cold)"
    logged helm go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    stamp helm "$HELM_VERSION"
  fi
fi

# geoip-db: writes the MaxMind DB the rig's PowerDNS locates clients with (tools/geoip-db, pinned by its
# go.mod and go.sum). Its stamp is a hash of its sources, so a change to them builds it again.
if wanted geoip-db; then
  geoip_src="$here/tools/geoip-db"
  geoip_version="src-$(cat "$geoip_src/main.go" "$geoip_src/go.mod" "$geoip_src/go.sum" | sha256sum | cut -c1-16)"
  if ! have geoip-db "$geoip_version"; then
    need_go
    say "building geoip-db (tools/geoip-db, about 1 minute cold)"
    (cd "$geoip_src" && logged geoip-db go build -trimpath -o "$bin/geoip-db" .)
    stamp geoip-db "$geoip_version"
  fi
fi

# etcd: its module has replace lines, so a two-line wrapper module builds it.
if wanted etcd; then
  if ! have etcd "$ETCD_VERSION"; then
    need_go
    say "building etcd $ETCD_VERSION (about 2-4 minutes cold)"
    work="$cache/build/etcd"; rm -rf "$work"; mkdir -p "$work"
    cp "$here/toolchain/etcd/main.go" "$work/"
    (cd "$work" && go mod init meridian.local/etcd >/dev/null 2>&1 &&
      logged etcd-deps go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
      logged etcd go build -trimpath -o "$bin/etcd" .)
    stamp etcd "$ETCD_VERSION"
  fi
fi

# kube-apiserver, kube-controller-manager, kube-scheduler: k8s.io/kubernetes replaces its staging
# modules with local folders, so a wrapper module pins each of them to the published version instead.
if wanted kube; then
  kube_bins=(kube-apiserver kube-controller-manager kube-scheduler)
  missing=()
  for b in "${kube_bins[@]}"; do have "$b" "$KUBE_VERSION" || missing+=("$b"); done
  if [ ${#missing[@]} -gt 0 ]; then
    need_go
    say "building ${missing[*]} $KUBE_VERSION (the longest step: about 15-30 minutes cold on 2 cores)"
    work="$cache/build/kube"; mkdir -p "$work"
    "$here/toolchain/kube/gen-go-mod.sh" "$KUBE_VERSION" "$KUBE_STAGING_VERSION" >"$work/go.mod"
    printf 'package main\n\nfunc main() {}\n' >"$work/main.go"
    minor=${KUBE_VERSION#v}; major=${minor%%.*}; minor=${minor#*.}; minor=${minor%%.*}
    ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
    ldflags+=" -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor"
    ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
    ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
    for b in "${missing[@]}"; do
      say "  compiling $b"
      (cd "$work" && GOFLAGS="-mod=mod -buildvcs=false" logged "$b" \
        go build -trimpath -ldflags "$ldflags" -o "$bin/$b" "k8s.io/kubernetes/cmd/$b")
      stamp "$b" "$KUBE_VERSION"
    done
  fi
fi

# The Java time-skipping test server, resolved from Maven Central and wrapped in a script.
if wanted test-server; then
  if ! have temporal-test-server "$TEMPORAL_TEST_SERVER_VERSION"; then
    require java "install a Java 11+ runtime (Debian: apt-get install default-jre-headless)"
    require mvn "install Maven (Debian: apt-get install maven)"
    say "resolving temporal-test-server $TEMPORAL_TEST_SERVER_VERSION from Maven Central (about 1 minute cold)"
    work="$cache/build/test-server"; mkdir -p "$work"
    cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>meridian.local</groupId><artifactId>test-server</artifactId><version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
      <version>$TEMPORAL_TEST_SERVER_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
    (cd "$work" && logged test-server mvn -q -B dependency:build-classpath -Dmdep.outputFile="$work/classpath.txt")
    cat >"$bin/temporal-test-server" <<SH
#!/bin/sh
# Temporal's time-skipping test server; usage: temporal-test-server PORT [--enable-time-skipping]
exec java -Xss2m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "\$(cat '$work/classpath.txt')" io.temporal.testserver.TestServer "\$@"
SH
    chmod +x "$bin/temporal-test-server"
    stamp temporal-test-server "$TEMPORAL_TEST_SERVER_VERSION"
  fi
fi

# moto_server: an emulator of AWS APIs (Route 53 among them) that the Route 53 traffic provider's tests
# write to. From PyPI into its own virtualenv in the cache, so neither the system's Python nor another
# project's packages are touched; the link in the cache bin is what the tests run.
if wanted moto; then
  if ! have moto_server "$MOTO_VERSION" || [ ! -x "$cache/moto-$MOTO_VERSION/bin/moto_server" ]; then
    require python3 "install Python 3.9 or newer with venv (Debian: apt-get install python3 python3-venv)"
    say "installing moto[server] $MOTO_VERSION from PyPI into a virtualenv (about 1 minute cold)"
    venv="$cache/moto-$MOTO_VERSION"
    rm -rf "$venv"
    logged moto-venv python3 -m venv "$venv"
    logged moto "$venv/bin/pip" install --disable-pip-version-check --no-input "moto[server]==$MOTO_VERSION"
    ln -sf "$venv/bin/moto_server" "$bin/moto_server"
    stamp moto_server "$MOTO_VERSION"
  fi
fi

# Debian packages: registries, an independent OCI client, Prometheus, wrk, compose for linting,
# PostgreSQL, Chromium, openssl, and PowerDNS Authoritative with its sqlite3 and geoip backends, the
# sqlite3 CLI (which creates its database: Node 20 has no node:sqlite) and dig.
if wanted debs; then
  debs=()
  command -v docker-registry >/dev/null || [ -x /usr/bin/docker-registry ] || debs+=(docker-registry)
  command -v skopeo >/dev/null || debs+=(skopeo)
  command -v prometheus >/dev/null || debs+=(prometheus)
  command -v wrk >/dev/null || debs+=(wrk)
  command -v docker-compose >/dev/null || debs+=(docker-compose)
  # The production profile's database, and a browser for the Web UI test.
  [ -x "/usr/lib/postgresql/$POSTGRESQL_MAJOR/bin/postgres" ] || debs+=("postgresql-$POSTGRESQL_MAJOR")
  command -v chromium >/dev/null || debs+=(chromium)
  command -v openssl >/dev/null || debs+=(openssl)
  # The rig's DNS server. Debian keeps the backends in /usr/lib/<triplet>/pdns.
  command -v pdns_server >/dev/null || [ -x /usr/sbin/pdns_server ] || debs+=(pdns-server)
  compgen -G '/usr/lib/*/pdns/libgsqlite3backend.so' >/dev/null || debs+=(pdns-backend-sqlite3)
  compgen -G '/usr/lib/*/pdns/libgeoipbackend.so' >/dev/null || debs+=(pdns-backend-geoip)
  command -v sqlite3 >/dev/null || debs+=(sqlite3)
  command -v dig >/dev/null || debs+=(bind9-dnsutils)
  if [ ${#debs[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      say "installing Debian packages: ${debs[*]} (about 1-2 minutes)"
      logged apt-update apt-get update
      DEBIAN_FRONTEND=noninteractive logged apt-install apt-get install -y --no-install-recommends "${debs[@]}"
      # The package starts a system-wide pdns on port 53 where systemd runs; the rig runs its own on
      # loopback, so the one just installed is stopped and disabled.
      if [[ " ${debs[*]} " == *" pdns-server "* ]] && command -v systemctl >/dev/null &&
        systemctl is-active --quiet pdns 2>/dev/null; then
        systemctl disable --now pdns >/dev/null 2>&1 && say "stopped and disabled the system pdns service (the rig runs its own)"
      fi
    else
      say "warning: missing ${debs[*]}; install them with your package manager (some tests need them)"
    fi
  fi
fi

say "toolchain ready in $bin ($(( $(date +%s) - started ))s)"
echo "$bin"
