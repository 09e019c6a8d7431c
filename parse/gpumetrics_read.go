package parse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// GPU-metrics tables of an export recorded with sampling.
const (
	tGPUMetrics     = "GPU_METRICS"
	tGPUMetricNames = "TARGET_INFO_GPU_METRICS"
)

// gmLead is how long before the window a sample may start and still
// overlap it: nsys samples at 10 Hz at least.
const gmLead = 200_000_000

// readGPUMetrics fills sum.GPUMetrics from the export's samples, when it
// has any that gate reads, integrating them over sum's steps and window;
// an export without them is left as it is.
func readGPUMetrics(ctx context.Context, s *schema, sum *Summary) error {
	if !s.has(tGPUMetrics) || !s.has(tGPUMetricNames) {
		return nil
	}
	for _, c := range []struct{ table, col string }{
		{tGPUMetricNames, "typeId"}, {tGPUMetricNames, "metricId"}, {tGPUMetricNames, "metricName"},
		{tGPUMetrics, "timestamp"}, {tGPUMetrics, "typeId"}, {tGPUMetrics, "metricId"}, {tGPUMetrics, "value"},
	} {
		if !s.hasColumn(ctx, c.table, c.col) {
			sum.Warnings = append(sum.Warnings, Warning{Code: WarnGPUMetrics, Message: fmt.Sprintf("GPU metrics not read: %s has no column %s", c.table, c.col)})
			return nil
		}
	}
	metrics, err := readMetricNames(ctx, s)
	if err != nil {
		return err
	}
	g := newGMPass(sum, metrics)
	if g == nil {
		return nil
	}
	ids := map[int64]bool{}
	for k := range g.series {
		ids[k.metricID] = true
	}
	var list []string
	for id := range ids {
		list = append(list, strconv.FormatInt(id, 10))
	}
	// SQLite filters the rows (metrics gate reads, inside the window); Go
	// reads four numbers a row, in table order.
	q := `SELECT timestamp, typeId, metricId, value FROM ` + tGPUMetrics +
		` WHERE metricId IN (` + strings.Join(list, ",") + `) AND timestamp >= ?1 AND timestamp < ?2`
	rows, err := s.db.Query(ctx, q, g.lo-gmLead, g.hi)
	if err != nil {
		return fmt.Errorf("%s: %w", tGPUMetrics, sqliteErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		g.add(rows.Int64(1), rows.Int64(2), rows.Int64(0), rows.Float64(3))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", tGPUMetrics, sqliteErr(err))
	}
	g.finish(sum)
	return nil
}

// readMetricNames reads TARGET_INFO_GPU_METRICS.
func readMetricNames(ctx context.Context, s *schema) ([]gmMetric, error) {
	rows, err := s.db.Query(ctx, `SELECT typeId, metricId, coalesce(metricName, '') FROM `+tGPUMetricNames)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tGPUMetricNames, sqliteErr(err))
	}
	defer rows.Close()
	var out []gmMetric
	for rows.Next() {
		out = append(out, gmMetric{typeID: rows.Int64(0), metricID: rows.Int64(1), name: rows.Text(2)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", tGPUMetricNames, sqliteErr(err))
	}
	return out, nil
}
