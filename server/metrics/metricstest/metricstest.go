// Package metricstest reads Prometheus metric families in tests, alike
// whether they were gathered from a registry (the tests of
// server/metrics) or scraped over HTTP (the end-to-end tests of server/,
// cmd/fanout's silent mode). Besides tests, only cmd/fanout imports it.
package metricstest

import (
	"slices"

	dto "github.com/prometheus/client_model/go"
)

// Sum adds up the series of f whose labels include every pair of pairs
// (name, value, name, value, ...): counter, gauge and untyped values,
// histogram sample counts. It is 0 when f is nil or no series matches.
func Sum(f *dto.MetricFamily, pairs ...string) float64 {
	var sum float64
	for _, s := range f.GetMetric() {
		if !hasLabels(s, pairs) {
			continue
		}
		switch {
		case s.Counter != nil:
			sum += s.GetCounter().GetValue()
		case s.Gauge != nil:
			sum += s.GetGauge().GetValue()
		case s.Histogram != nil:
			sum += float64(s.GetHistogram().GetSampleCount())
		case s.Untyped != nil:
			sum += s.GetUntyped().GetValue()
		}
	}
	return sum
}

// hasLabels reports whether s has every label of pairs.
func hasLabels(s *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		name, value := pairs[i], pairs[i+1]
		if !slices.ContainsFunc(s.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == name && l.GetValue() == value }) {
			return false
		}
	}
	return true
}
