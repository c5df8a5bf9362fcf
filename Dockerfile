# A minimal image holding only the static dnsieve binary.
# Build the binary first (CGO_ENABLED=0, see README.md), then:
#   buildah bud --isolation chroot -t dnsieve .
#   buildah run --isolation chroot <container> -- /dnsieve scan -o /out /data
FROM scratch
COPY dist/dnsieve /dnsieve
USER 65534:65534
WORKDIR /work
ENTRYPOINT ["/dnsieve"]
CMD ["--help"]
