package metrics

import (
	"testing"

	dto "github.com/prometheus/client_model/go"

	"feedrt/server/metrics/metricstest"
)

// family gathers m's registry and returns the family called name.
func family(t *testing.T, m *Metrics, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	t.Fatalf("no metric family %s", name)
	return nil
}

// histogram is the single unlabelled histogram called name.
func histogram(t *testing.T, m *Metrics, name string) *dto.Histogram {
	t.Helper()
	f := family(t, m, name)
	if len(f.GetMetric()) != 1 {
		t.Fatalf("%s has %d series, want 1", name, len(f.GetMetric()))
	}
	return f.GetMetric()[0].GetHistogram()
}

// sample is the sum of the series of family name (which must exist)
// whose labels include every pair of labels (name, value, name,
// value...): see metricstest.Sum.
func sample(t *testing.T, m *Metrics, name string, labels ...string) float64 {
	t.Helper()
	return metricstest.Sum(family(t, m, name), labels...)
}
