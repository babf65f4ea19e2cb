# The mock as an image: its static binary on an empty base, run as a user
# without privileges, listening on every interface of the container.
#
# Build it with `make image`, which compiles the binary (CGO off, so it needs
# no libc) into bin/image/ and builds this file there: no base image is
# pulled, so the build needs Go and a Docker engine, and nothing else.
#
#   docker run --rm -p 8080:8080 connector-mock
#   docker run --rm -p 8080:8080 -v mock-state:/data connector-mock --state /data/state.db
FROM scratch
COPY connector-mock /connector-mock
# /data for --state, owned by the user the mock runs as.
COPY --chown=65532:65532 data /data
USER 65532:65532
ENV CONNECTOR_MOCK_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/connector-mock"]
