# The operator image: flink-webhook, flink-controller and flink-certs on Debian bookworm slim.
# The packages match scripts/install-deps.sh (build) and their runtime libraries (run).
#   docker build -t flink-operator:0.1.0 .
# The chart runs the programs by absolute path as exec-form arrays; nothing needs a shell.

FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libjson-c-dev libyaml-dev libgnutls28-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY common common
COPY webhook webhook
COPY controller controller
COPY certs certs
COPY bench bench
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFO_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr \
    && cmake --build build -j"$(nproc)" \
    && DESTDIR=/out cmake --install build --strip

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libmicrohttpd12 libcurl4 libssl3 libjson-c5 libyaml-0-2 libgnutls30 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/bin/flink-webhook /out/usr/bin/flink-controller /out/usr/bin/flink-certs /usr/bin/
# A numeric non-root user: runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
ENTRYPOINT ["/usr/bin/flink-controller"]
