# liveloop — a static binary on a small base. No cgo: SQLite is pure Go.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /liveloop ./cmd/liveloop

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /liveloop /liveloop
WORKDIR /data
ENV LIVELOOP_ADDR=0.0.0.0:8080 LIVELOOP_DB=/data/liveloop.db
EXPOSE 8080
VOLUME /data
ENTRYPOINT ["/liveloop"]
CMD ["serve"]
