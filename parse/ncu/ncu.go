// Package ncu reads Nsight Compute's raw CSV page (`ncu --csv --page raw`) as
// ncu really writes it and turns it into per-kernel DRAM bandwidth.
//
// When ncu's output is redirected, the profiled program's own stdout and ncu's
// `==PROF==` log lines come first; then a header row, a units row, and one row
// per profiled kernel launch. Values carry thousands separators ("23,264,512")
// and, unless `--print-units base` was given, each column has its own unit
// (byte, Kbyte, Mbyte; nsecond, usecond, msecond; %), so the units row is read
// and every value normalised to bytes, nanoseconds and percent.
//
// Parse keeps going past a bad row: it reports the row as a warning with its
// line number and reads on. Only a stream with no header, or a header without
// the columns gate needs, is an error.
//
// Start reading at ParseFile (or Parse), then Bandwidth, which averages the
// launches per kernel, and Join, which puts the result in a Summary.
package ncu

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/nsys-gate/gate/parse"
)

// Metric names gate asks ncu for, and the columns it reads back.
const (
	MetricDuration   = "gpu__time_duration.sum"
	MetricDRAMRead   = "dram__bytes_read.sum"
	MetricDRAMWrite  = "dram__bytes_write.sum"
	MetricDRAMPct    = "dram__throughput.avg.pct_of_peak_sustained_elapsed"
	MetricSMPct      = "sm__throughput.avg.pct_of_peak_sustained_elapsed"
	columnID         = "ID"
	columnKernelName = "Kernel Name"
	columnDevice     = "Device"
	// Device attributes ncu adds to every row of the raw page.
	attrName     = "device__attribute_display_name"
	attrSMs      = "device__attribute_multiprocessor_count"
	attrMemClock = "device__attribute_memory_clock_rate" // kHz
	attrBusWidth = "device__attribute_global_memory_bus_width"
)

// Metrics is the --metrics list gate passes to ncu: what Parse needs.
var Metrics = []string{MetricDuration, MetricDRAMRead, MetricDRAMWrite, MetricDRAMPct, MetricSMPct}

// Launch is one profiled kernel launch: one data row, normalised to
// nanoseconds, bytes and percent. A metric ncu did not report is NaN.
type Launch struct {
	Line         int // line of the row in the input, 1-based
	ID           int
	Kernel       string // "Kernel Name" as ncu printed it (demangled)
	Device       int
	DurationNs   float64
	BytesRead    float64
	BytesWritten float64
	DRAMPct      float64 // dram__throughput, % of peak sustained
	SMPct        float64 // sm__throughput, % of peak sustained
}

// Device is what the rows say about the GPU.
type Device struct {
	Name string
	SMs  int
	// PeakBandwidth is 2 × memory clock × bus width / 8 in bytes/s (double
	// data rate), from ncu's device attributes; 0 when they are missing.
	PeakBandwidth float64
}

// Report is a parsed ncu raw page.
type Report struct {
	Launches []Launch
	Device   Device
	// Warnings are rows that could not be read, ncu errors in the log, and
	// metrics missing from the header.
	Warnings []parse.Warning
}

// SyntaxError is a problem with the input at one line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ErrNoHeader is returned when the input holds no CSV header: typically ncu
// profiled nothing (a kernel filter that matched no launch).
var ErrNoHeader = errors.New("no ncu CSV header found (did ncu profile any kernel?)")

// ParseFile parses the ncu CSV at path; errors name the file.
func ParseFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

// Parse reads `ncu --csv --page raw` output from r.
func Parse(r io.Reader) (*Report, error) {
	p := &parser{rep: &Report{}}
	br := bufio.NewReaderSize(r, 64<<10)
	line := 0
	for {
		text, err := br.ReadString('\n')
		if len(text) > 0 {
			line++
			if perr := p.line(line, strings.TrimRight(text, "\r\n")); perr != nil {
				return nil, perr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line+1, err)
		}
	}
	if p.header == nil {
		return nil, ErrNoHeader
	}
	if p.rep.Launches == nil {
		p.rep.Launches = []Launch{}
	}
	return p.rep, nil
}

type parser struct {
	rep    *Report
	header []string
	col    map[string]int
	scale  []float64 // per column: factor to base unit; 0 = not a number we scale
	units  bool      // units row seen
	device bool      // device attributes read
}

func (p *parser) warn(code string, line int, format string, args ...any) {
	p.rep.Warnings = append(p.rep.Warnings, parse.Warning{
		Code:    code,
		Message: fmt.Sprintf("line %d: %s", line, fmt.Sprintf(format, args...)),
	})
}

func (p *parser) line(n int, text string) error {
	if strings.HasPrefix(text, "==") {
		// ncu's own log: ==PROF==, ==WARNING==, ==ERROR==.
		if strings.HasPrefix(text, "==ERROR==") || strings.HasPrefix(text, "==WARNING==") {
			p.warn("ncu_log", n, "%s", text)
		}
		return nil
	}
	if p.header == nil {
		if !strings.HasPrefix(text, `"ID",`) {
			return nil // the profiled program's own output
		}
		rec, err := splitCSV(text)
		if err != nil {
			return &SyntaxError{n, "header: " + err.Error()}
		}
		return p.setHeader(n, rec)
	}
	if !strings.HasPrefix(text, `"`) {
		if strings.TrimSpace(text) != "" {
			p.warn("ncu_stray_line", n, "skipped a line that is not CSV")
		}
		return nil
	}
	rec, err := splitCSV(text)
	if err != nil {
		p.warn("ncu_bad_row", n, "%v", err)
		return nil
	}
	if len(rec) != len(p.header) {
		p.warn("ncu_bad_row", n, "%d fields, header has %d", len(rec), len(p.header))
		return nil
	}
	if rec[0] == "" && !p.units && len(p.rep.Launches) == 0 {
		p.setUnits(n, rec)
		return nil
	}
	p.row(n, rec)
	return nil
}

func splitCSV(text string) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	return rec, nil
}

func (p *parser) setHeader(n int, rec []string) error {
	p.header = rec
	p.col = make(map[string]int, len(rec))
	for i, name := range rec {
		if _, dup := p.col[name]; !dup {
			p.col[name] = i
		}
	}
	for _, need := range []string{columnKernelName, MetricDuration} {
		if _, ok := p.col[need]; !ok {
			return &SyntaxError{n, fmt.Sprintf("header lacks column %q", need)}
		}
	}
	for _, m := range Metrics[1:] {
		if _, ok := p.col[m]; !ok {
			p.warn("ncu_missing_metric", n, "metric %s not in the CSV", m)
		}
	}
	p.scale = make([]float64, len(rec))
	for i := range p.scale {
		p.scale[i] = 1
	}
	return nil
}

func (p *parser) setUnits(n int, rec []string) {
	p.units = true
	for i, u := range rec {
		f, ok := unitScale(u)
		if !ok {
			if i == p.col[MetricDuration] || isMetric(p.header[i]) {
				p.warn("ncu_unknown_unit", n, "column %s: unknown unit %q, read as is", p.header[i], u)
			}
			continue
		}
		p.scale[i] = f
	}
}

func isMetric(name string) bool {
	for _, m := range Metrics {
		if m == name {
			return true
		}
	}
	return false
}

// unitScale returns the factor that turns a value in unit u into bytes,
// nanoseconds or percent. The empty unit and unit-less counts scale by 1.
func unitScale(u string) (float64, bool) {
	switch strings.TrimSpace(u) {
	case "", "%", "byte", "nsecond", "ns":
		return 1, true
	case "Kbyte", "KB":
		return 1e3, true
	case "Mbyte", "MB":
		return 1e6, true
	case "Gbyte", "GB":
		return 1e9, true
	case "Tbyte", "TB":
		return 1e12, true
	case "KiB", "Kibyte":
		return 1 << 10, true
	case "MiB", "Mibyte":
		return 1 << 20, true
	case "GiB", "Gibyte":
		return 1 << 30, true
	case "usecond", "us":
		return 1e3, true
	case "msecond", "ms":
		return 1e6, true
	case "second", "s":
		return 1e9, true
	}
	return 1, false
}

// number parses an ncu value: thousands separators removed; "n/a" and empty
// are missing (NaN, no error).
func number(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "n/a" || s == "N/A" {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil {
		return math.NaN(), fmt.Errorf("not a number: %q", s)
	}
	if math.IsInf(v, 0) {
		return math.NaN(), fmt.Errorf("not a finite number: %q", s)
	}
	return v, nil
}

// maxValue bounds every value: no real duration, byte count or percentage
// comes near it, and sums of many stay finite.
const maxValue = 1e18

// metric reads column name of rec in base units; NaN when the column is
// absent or empty.
func (p *parser) metric(rec []string, name string) (float64, error) {
	i, ok := p.col[name]
	if !ok {
		return math.NaN(), nil
	}
	v, err := number(rec[i])
	if err != nil {
		return v, fmt.Errorf("%s: %w", name, err)
	}
	v *= p.scale[i]
	if v < 0 || v > maxValue {
		return math.NaN(), fmt.Errorf("%s: out of range: %q", name, rec[i])
	}
	return v, nil
}

func (p *parser) row(n int, rec []string) {
	l := Launch{Line: n, Kernel: rec[p.col[columnKernelName]]}
	if i, ok := p.col[columnID]; ok {
		id, err := strconv.Atoi(strings.ReplaceAll(rec[i], ",", ""))
		if err != nil {
			p.warn("ncu_bad_row", n, "ID: not an integer: %q", rec[i])
			return
		}
		l.ID = id
	}
	if i, ok := p.col[columnDevice]; ok {
		if d, err := strconv.Atoi(rec[i]); err == nil {
			l.Device = d
		}
	}
	var err error
	fields := []struct {
		name string
		dst  *float64
	}{
		{MetricDuration, &l.DurationNs},
		{MetricDRAMRead, &l.BytesRead},
		{MetricDRAMWrite, &l.BytesWritten},
		{MetricDRAMPct, &l.DRAMPct},
		{MetricSMPct, &l.SMPct},
	}
	for _, f := range fields {
		if *f.dst, err = p.metric(rec, f.name); err != nil {
			p.warn("ncu_bad_row", n, "%v", err)
			return
		}
	}
	if l.Kernel == "" {
		p.warn("ncu_bad_row", n, "empty kernel name")
		return
	}
	if math.IsNaN(l.DurationNs) || l.DurationNs <= 0 {
		p.warn("ncu_bad_row", n, "kernel %q: no duration", l.Kernel)
		return
	}
	if !p.device {
		p.readDevice(rec)
	}
	p.rep.Launches = append(p.rep.Launches, l)
}

func (p *parser) readDevice(rec []string) {
	p.device = true
	d := &p.rep.Device
	if i, ok := p.col[attrName]; ok {
		d.Name = rec[i]
	}
	if v, err := p.metric(rec, attrSMs); err == nil && !math.IsNaN(v) {
		d.SMs = int(v)
	}
	clk, err1 := p.metric(rec, attrMemClock)
	bus, err2 := p.metric(rec, attrBusWidth)
	if err1 == nil && err2 == nil && clk > 0 && bus > 0 {
		d.PeakBandwidth = 2 * clk * 1e3 * bus / 8
	}
}
