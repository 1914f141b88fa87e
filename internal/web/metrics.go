package web

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	requests      *prometheus.CounterVec
	wsOpen        prometheus.Gauge
	wsDropped     prometheus.Counter
	messages      *prometheus.CounterVec
	webhooks      *prometheus.CounterVec
	webhookEvents *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liveloop_http_requests_total", Help: "HTTP requests by status code class.",
		}, []string{"code"}),
		wsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "liveloop_websocket_connections", Help: "Open WebSocket connections.",
		}),
		wsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "liveloop_websocket_dropped_total", Help: "Connections dropped for falling behind.",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liveloop_chat_messages_total", Help: "Chat messages received, by who sent them.",
		}, []string{"from"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liveloop_webhook_deliveries_total", Help: "Platform webhook deliveries, by platform and outcome.",
		}, []string{"kind", "outcome"}),
		webhookEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liveloop_webhook_events_total", Help: "Events in accepted deliveries: stored, duplicate (redelivered) or ignored.",
		}, []string{"kind", "result"}),
	}
	reg.MustRegister(m.requests, m.wsOpen, m.wsDropped, m.messages, m.webhooks, m.webhookEvents,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(code int) {
	m.requests.WithLabelValues(strconv.Itoa(code/100) + "xx").Inc()
}
