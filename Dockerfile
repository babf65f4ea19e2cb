# The mock as an image: its static binary on an empty base, run as a user
# without privileges, listening on every interface of the container.
#
# `make image` builds it: it compiles the binary (CGO off, so it needs no
# libc) into bin/image/, then builds this file with the repository as the
# context, which .dockerignore narrows to bin/image/. No base image is
# pulled, so the build needs Go and a Docker engine, and nothing else; a
# plain `docker build .` (or Compose's `build: .`) works once `make image`
# has compiled the binary.
#
#   docker run --rm -p 8080:8080 connector-mock
#   docker run --rm -p 8080:8080 -v mock-state:/data connector-mock --state /data/state.db
#   docker run --rm -p 8443:8443 -v mock-state:/data -e CONNECTOR_MOCK_ADDR=0.0.0.0:8443 \
#     -e CONNECTOR_MOCK_TLS=true -e CONNECTOR_MOCK_TLS_CA_OUT=/data/ca.pem connector-mock
FROM scratch
COPY bin/image/connector-mock /connector-mock
# /data for --state, owned by the user the mock runs as.
COPY --chown=65532:65532 bin/image/data /data
USER 65532:65532
ENV CONNECTOR_MOCK_ADDR=0.0.0.0:8080
EXPOSE 8080
# FROM scratch has no curl: the binary asks itself, at the address and with
# the https that the CONNECTOR_MOCK_ environment gives (so set those by
# environment, not by flag, for the check to find the mock).
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 CMD ["/connector-mock", "healthcheck"]
ENTRYPOINT ["/connector-mock"]
