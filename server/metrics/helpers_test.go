package metrics

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
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

// sample is the value of the counter or gauge series of family name whose
// labels include every pair of labels (name, value, name, value...), or
// the sample count of a histogram series; 0 if there is none.
func sample(t *testing.T, m *Metrics, name string, labels ...string) float64 {
	t.Helper()
	var sum float64
	for _, s := range family(t, m, name).GetMetric() {
		if !hasLabels(s, labels) {
			continue
		}
		switch {
		case s.Counter != nil:
			sum += s.GetCounter().GetValue()
		case s.Gauge != nil:
			sum += s.GetGauge().GetValue()
		case s.Histogram != nil:
			sum += float64(s.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

func hasLabels(s *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range s.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
