package vllm

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nsys-gate/gate/internal/stats"
	"github.com/nsys-gate/gate/parse"
)

// The periodic statistics line, as vLLM's LoggingStatLogger prints it:
//
//	0.6 (vllm/engine/metrics.py):  Avg prompt throughput: %.1f tokens/s, Avg generation throughput: %.1f tokens/s,
//	                               Running: %d reqs, Swapped: %d reqs, Pending: %d reqs, GPU KV cache usage: %.1f%%,
//	                               CPU KV cache usage: %.1f%%.
//	                               and, with prefix caching, "Prefix cache hit rate: GPU: %.2f%%, CPU: %.2f%%"
//	0.10 (vllm/v1/metrics/loggers.py): Engine %03d: Avg prompt throughput: ..., Avg generation throughput: ...,
//	                               Running: %d reqs, Waiting: %d reqs, GPU KV cache usage: %.1f%%, Prefix cache hit rate: %.1f%%
//	0.12+:                         the same with "Preemptions: %d" (only when > 0) before the KV usage, optional
//	                               trailing fields, "N Engines Aggregated: " as prefix with aggregated DP logging,
//	                               "MFU: %.1f TF/s/GPU %.1f GB/s/GPU" (vllm/v1/metrics/perf.py) and the CUDA-graph
//	                               table of vllm/compilation/cuda_graph.py (CUDAGraphLogging).
//
// Fields are matched one by one, so a field that a version lacks is simply
// absent and an unknown extra field is ignored.
var (
	logThroughputRE = regexp.MustCompile(`Avg prompt throughput: ([-0-9.eE+]+) tokens/s, Avg generation throughput: ([-0-9.eE+]+) tokens/s`)
	logEngineRE     = regexp.MustCompile(`(Engine [0-9]+|[0-9]+ Engines Aggregated): Avg prompt throughput`)
	logFieldRE      = map[string]*regexp.Regexp{
		fRunning:  regexp.MustCompile(`Running: ([0-9]+) reqs`),
		fWaiting:  regexp.MustCompile(`(?:Waiting|Pending): ([0-9]+) reqs`),
		fSwapped:  regexp.MustCompile(`Swapped: ([0-9]+) reqs`),
		fPreempt:  regexp.MustCompile(`Preemptions: ([0-9]+)`),
		fGPUKV:    regexp.MustCompile(`GPU KV cache usage: ([0-9.]+)%`),
		fCPUKV:    regexp.MustCompile(`CPU KV cache usage: ([0-9.]+)%`),
		fPrefixV1: regexp.MustCompile(`(?:^|, )Prefix cache hit rate: ([0-9.]+)%`),
	}
	logPrefixV0RE  = regexp.MustCompile(`Prefix cache hit rate: GPU: ([0-9.]+)%, CPU: ([0-9.]+)%`)
	logMFUEngineRE = regexp.MustCompile(`(Engine [0-9]+|[0-9]+ Engines Aggregated): MFU`)
	logMFURE       = regexp.MustCompile(`MFU: ([0-9.eE+]+) TF/s/GPU ([0-9.eE+]+) GB/s/GPU`)
	logPreemptV0RE = regexp.MustCompile(`is preempted by .*total_num_cumulative_preemption=([0-9]+)`)
	logCGHeaderRE  = regexp.MustCompile(`^\|\s*Unpadded Tokens\s*\|\s*Padded Tokens\s*\|\s*Num Paddings\s*\|\s*Runtime Mode\s*\|\s*Count\s*\|`)
	logCGRowRE     = regexp.MustCompile(`^\|\s*([0-9]+)\s*\|\s*([0-9]+)\s*\|\s*([0-9]+)\s*\|\s*([A-Za-z_]+)\s*\|\s*([0-9]+)\s*\|`)
	logCGSepRE     = regexp.MustCompile(`^\|[-|]+\|\s*$`)
	ansiRE         = regexp.MustCompile("\x1b\\[[0-9;]*m")
)

// Field keys of one statistics line.
const (
	fPrompt   = "prompt_throughput"
	fGen      = "generation_throughput"
	fRunning  = "running"
	fWaiting  = "waiting"
	fSwapped  = "swapped"
	fPreempt  = "preemptions"
	fGPUKV    = "gpu_kv_cache_usage_pct"
	fCPUKV    = "cpu_kv_cache_usage_pct"
	fPrefixV1 = "prefix_cache_hit_pct"
	fMFUTF    = "mfu_tflops_per_gpu"
	fMFUGB    = "mfu_gbps_per_gpu"
)

// logField describes how a field becomes a metric: per-engine medians are
// summed over engines (throughputs, request counts) or averaged (usage,
// rates); preemptions per interval are totalled.
var logFields = []struct {
	key, unit, better string
	combine           string // "sum", "mean", "total"
}{
	{fPrompt, "tok/s", BetterHigher, "sum"},
	{fGen, "tok/s", BetterHigher, "sum"},
	{fRunning, "count", BetterInfo, "sum"},
	{fWaiting, "count", BetterLower, "sum"},
	{fSwapped, "count", BetterLower, "sum"},
	{fPreempt, "count", BetterLower, "total"},
	{fGPUKV, "pct", BetterInfo, "mean"},
	{fCPUKV, "pct", BetterInfo, "mean"},
	{fPrefixV1, "pct", BetterHigher, "mean"},
	{fMFUTF, "TF/s", BetterHigher, "mean"},
	{fMFUGB, "GB/s", BetterInfo, "mean"},
}

// ParseLog reads a vLLM server or engine log and returns the medians of its
// periodic statistics over the window, ignoring idle lines (no throughput,
// nothing running or waiting), plus the CUDA-graph padding share and the
// preemption counts where the version prints them. Each median carries the
// per-line values as samples.
func ParseLog(data []byte, source string) ([]parse.ExtraMetric, []parse.Warning) {
	var ws []parse.Warning
	// engine -> field -> values, in line order
	series := map[string]map[string][]float64{}
	push := func(engine, field string, v float64) {
		if series[engine] == nil {
			series[engine] = map[string][]float64{}
		}
		series[engine][field] = append(series[engine][field], v)
	}
	idle, statLines := 0, 0
	preemptV0 := -1.0
	var cgPadded, cgPaddings, cgSteps, cgEager float64
	cgRows := 0
	inTable := false

	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.IndexByte(line, 0x1b) >= 0 {
			line = ansiRE.ReplaceAllString(line, "")
		}
		if inTable {
			if logCGSepRE.MatchString(line) {
				continue
			}
			if m := logCGRowRE.FindStringSubmatch(line); m != nil {
				padded, _ := strconv.ParseFloat(m[2], 64)
				pads, _ := strconv.ParseFloat(m[3], 64)
				count, _ := strconv.ParseFloat(m[5], 64)
				cgPadded += padded * count
				cgPaddings += pads * count
				cgSteps += count
				if m[4] == "NONE" {
					cgEager += count
				}
				cgRows++
				continue
			}
			inTable = false
		}
		if logCGHeaderRE.MatchString(line) {
			inTable = true
			continue
		}
		if m := logThroughputRE.FindStringSubmatchIndex(line); m != nil {
			statLines++
			engine := ""
			if e := logEngineRE.FindStringSubmatch(line); e != nil {
				engine = e[1]
			}
			prompt, err1 := strconv.ParseFloat(line[m[2]:m[3]], 64)
			gen, err2 := strconv.ParseFloat(line[m[4]:m[5]], 64)
			if err1 != nil || err2 != nil || !finite(prompt) || !finite(gen) {
				ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("%s:%d: unreadable throughput in a statistics line", source, lineNo)))
				continue
			}
			vals := map[string]float64{fPrompt: prompt, fGen: gen}
			rest := line[m[1]:]
			for k, re := range logFieldRE {
				if f := re.FindStringSubmatch(rest); f != nil {
					if v, err := strconv.ParseFloat(f[1], 64); err == nil && finite(v) {
						vals[k] = v
					}
				}
			}
			if prompt == 0 && gen == 0 && vals[fRunning] == 0 && vals[fWaiting] == 0 {
				idle++
				continue
			}
			for _, lf := range logFields {
				if v, ok := vals[lf.key]; ok {
					push(engine, lf.key, v)
				}
			}
			continue
		}
		if m := logPrefixV0RE.FindStringSubmatch(line); m != nil {
			if v, err := strconv.ParseFloat(m[1], 64); err == nil && finite(v) {
				push("", fPrefixV1, v)
			}
			continue
		}
		if m := logMFURE.FindStringSubmatch(line); m != nil {
			engine := ""
			if e := logMFUEngineRE.FindStringSubmatch(line); e != nil {
				engine = e[1]
			}
			tf, err1 := strconv.ParseFloat(m[1], 64)
			gb, err2 := strconv.ParseFloat(m[2], 64)
			if err1 == nil && err2 == nil && finite(tf) && finite(gb) && (tf > 0 || gb > 0) {
				push(engine, fMFUTF, tf)
				push(engine, fMFUGB, gb)
			}
			continue
		}
		if m := logPreemptV0RE.FindStringSubmatch(line); m != nil {
			if v, err := strconv.ParseFloat(m[1], 64); err == nil && v > preemptV0 {
				preemptV0 = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("%s:%d: %v", source, lineNo, err)))
	}

	var ms []parse.ExtraMetric
	engines := sortedKeys(series)
	for _, lf := range logFields {
		var perEngine []float64
		var samples []float64
		for _, e := range engines {
			xs := series[e][lf.key]
			if len(xs) == 0 {
				continue
			}
			if lf.combine == "total" {
				perEngine = append(perEngine, sum(xs))
			} else {
				perEngine = append(perEngine, stats.Median(stats.Sorted(xs)))
			}
			if len(engines) == 1 {
				samples = xs
			}
		}
		if len(perEngine) == 0 {
			continue
		}
		v := sum(perEngine)
		if lf.combine == "mean" {
			v /= float64(len(perEngine))
		}
		m := metric("vllm.log."+lf.key, lf.unit, lf.better, v, source)
		if lf.combine != "total" && len(samples) > 1 && len(samples) <= maxSamples {
			m.Samples = append([]float64(nil), samples...)
		}
		ms = append(ms, m)
	}
	if preemptV0 >= 0 {
		// vLLM 0.6 warns on every 50th preemption with the running total, so
		// this is a lower bound of the preemptions in the window.
		ms = append(ms, metric("vllm.log.preemptions_cumulative", "count", BetterLower, preemptV0, source))
	}
	if cgRows > 0 && cgPadded > 0 {
		ms = append(ms,
			metric("vllm.log.cudagraph.padding_pct", "pct", BetterLower, 100*cgPaddings/cgPadded, source),
			metric("vllm.log.cudagraph.eager_pct", "pct", BetterLower, 100*cgEager/cgSteps, source),
			metric("vllm.log.cudagraph.steps", "count", BetterInfo, cgSteps, source))
	}
	if idle > 0 {
		ws = append(ws, warn(WarnIdle, fmt.Sprintf("%s: %d of %d statistics lines were idle (no throughput, nothing running or waiting) and left out of the medians", source, idle, statLines)))
	}
	if len(ms) == 0 {
		if statLines > 0 {
			ws = append(ws, warn(WarnIncomplete, fmt.Sprintf("%s: all %d vLLM statistics lines were idle or unreadable", source, statLines)))
		} else {
			ws = append(ws, warn(WarnUnrecognised, source+": no vLLM statistics lines (\"Avg prompt throughput: ...\") found"))
		}
	}
	SortMetrics(ms)
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Code < ws[j].Code })
	return ms, ws
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}
