// Package web serves liveloop's pages and endpoints: the operators' console
// (server-rendered html/template, session cookies with CSRF tokens), the
// member-facing pages of the built-in web community (join links, group
// chat over WebSocket), health, readiness and metrics.
//
// It depends on the feature packages and never the reverse. Domain errors
// are mapped to HTTP once, in errors.go; member text only ever reaches a
// page through html/template text nodes or JavaScript textContent.
package web
