package metrics

import "github.com/prometheus/client_golang/prometheus"

// Images counts the image files the server writes and removes. It is
// what handlers.Images reports to (its Observer), without handlers
// knowing Prometheus.
type Images struct {
	stored, storedBytes   prometheus.Counter
	removed, removedBytes prometheus.Counter
}

func newImages(reg prometheus.Registerer) *Images {
	return &Images{
		stored:       newCounter(reg, "images_stored_total", "Uploaded image files written."),
		storedBytes:  newCounter(reg, "images_stored_bytes_total", "Bytes of the uploaded image files written."),
		removed:      newCounter(reg, "images_removed_total", "Image files removed: replaced or deleted with their post, left by a failed write, or taken by the sweep of unreferenced files."),
		removedBytes: newCounter(reg, "images_removed_bytes_total", "Bytes of the image files removed."),
	}
}

// Images is what the image handlers report to; nil without metrics.
func (m *Metrics) Images() *Images {
	if m == nil {
		return nil
	}
	return m.images
}

// ImageStored counts one image file of size bytes written.
func (im *Images) ImageStored(size int64) {
	if im == nil {
		return
	}
	im.stored.Inc()
	im.storedBytes.Add(float64(size))
}

// ImageRemoved counts one image file of size bytes removed.
func (im *Images) ImageRemoved(size int64) {
	if im == nil {
		return
	}
	im.removed.Inc()
	im.removedBytes.Add(float64(size))
}
