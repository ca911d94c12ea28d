# tai-gitops agent image: built with the Swift toolchain, shipped as one statically linked
# (Swift runtime and Foundation) binary on Debian slim with only the C libraries it links,
# running as a non-root user on a read-only root filesystem (overlays/agent mounts the cache
# and /tmp as emptyDirs).
#
#   docker build -t ghcr.io/tai/tai-gitops:v0.1.0 .
#   docker run --rm ghcr.io/tai/tai-gitops:v0.1.0 --help

FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgit2-dev libcurl4-openssl-dev libyaml-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest first, so dependency resolution is cached while the sources change.
COPY Package.swift ./
RUN swift package resolve
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --static-swift-stdlib --product tai-gitops \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/tai-gitops" /out/tai-gitops

FROM debian:bookworm-slim
# libgit2 (with libssh2), libcurl and libyaml; CA certificates for https remotes; ssh-keygen and
# gpgv for commit signature checks.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgit2-1.5 libcurl4 libyaml-0-2 ca-certificates openssh-client gpgv \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tai && useradd --system --uid 10001 --gid tai --home-dir /nonexistent --shell /usr/sbin/nologin tai
COPY --from=build /out/tai-gitops /usr/local/bin/tai-gitops
USER 10001:10001
ENV HOME=/tmp XDG_CACHE_HOME=/var/cache
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tai-gitops"]
CMD ["agent", "--config", "/etc/tai-gitops/sync.yaml"]
