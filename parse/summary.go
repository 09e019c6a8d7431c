// Package parse turns profiler output (Nsight Systems SQLite exports) into a
// Summary: the versioned, comparable model that gate stores as a baseline and
// that compare and render read. It does no I/O beyond the files it is given.
//
// Start reading at the Summary type (summary.go), then Export (export.go),
// which reads an export into one; MergeRanks (ranks.go) joins the exports of
// a multi-process run, Comparable says whether two summaries were measured
// alike, and DecodeSummary and EncodeSummary read and write the JSON
// (including the seed's legacy layout, legacy.go).
//
// Export reads in this order, a file each: the NVTX ranges and the steps among
// them (ranges.go, project.go), the runtime calls made inside ranges
// (calls.go), then every GPU op once in start order (ops.go), projected onto
// its ranges (project.go) and added up as it streams by (aggregate.go), and
// the Summary is built from the aggregates (build.go). Per-device and
// communication figures are devices.go; NCCL collective names, including the
// Generic kernel's, nccl.go; kernel components, components.go. Where no NVTX
// step range matched, steps are inferred from the launch stream (infer.go:
// CUDA-graph launches, host synchronisations, a repeating launch sequence;
// inferred.go and records.go carry the kernels to them); the GPU's sampled
// counters are gpumetrics.go. Two internal packages hold what knows nothing of
// exports: internal/sqlread (fast row reads through SQLite's C API) and
// internal/timeline (unions of intervals, per-device usage).
package parse

import "encoding/json"

// SummarySchema versions the JSON layout of Summary. Bump it on any change that
// an older reader would misinterpret.
const SummarySchema = "gate.summary/v1"

// Phase names used as keys of Summary.Phases.
const (
	PhasePrefill = "prefill"
	PhaseDecode  = "decode"
	PhaseMixed   = "mixed"
)

// PhaseWindow is the pseudo-phase of Summary.Components that covers the
// whole scope window, every step and what lies between them.
const PhaseWindow = "window"

// Trace modes of CUDA-graph tracing (nsys --cuda-graph-trace).
const (
	TraceNode  = "node"
	TraceGraph = "graph"
)

// Summary is everything gate knows about one profile. Times are nanoseconds,
// sizes bytes, rates bytes per second unless a field name says otherwise.
// Slices are sorted so that the JSON encoding is deterministic.
type Summary struct {
	Schema     string            `json:"schema"`
	Source     Source            `json:"source"`
	GPU        GPU               `json:"gpu"`
	Phases     map[string]*Phase `json:"phases"`
	Kernels    []Kernel          `json:"kernels"`
	Components []PhaseComponents `json:"components"`
	CUDAGraphs Graphs            `json:"cuda_graphs"`
	Memory     Memory            `json:"memory"`
	GPUTime    GPUTime           `json:"gpu_time"`
	// Devices is per-device detail, filled when the export has more than one
	// device or several per-rank exports were merged.
	Devices       []Device       `json:"devices,omitempty"`
	Communication *Communication `json:"communication,omitempty"`
	// Bandwidth is per-kernel DRAM traffic from an Nsight Compute CSV.
	Bandwidth *Bandwidth `json:"bandwidth,omitempty"`
	// GPUMetrics is what the GPU's own counters said while the profile ran
	// (nsys profile --gpu-metrics-devices): DRAM traffic, SM and tensor
	// activity, PCIe and the clock, per step and over the window. Nil for
	// profiles recorded without sampling.
	GPUMetrics *GPUMetrics `json:"gpu_metrics,omitempty"`
	// Extra holds metrics from outside the profile (vLLM benchmark results,
	// Prometheus scrapes, logs, user JSON), gated by the same rules.
	Extra    []ExtraMetric `json:"extra,omitempty"`
	Warnings []Warning     `json:"warnings"`
	// Gate is the part of gate.yml that judged this summary (its rules,
	// kernel share and exit codes), recorded so that they travel with it
	// when it becomes a baseline. parse keeps it verbatim; gate/config
	// reads it.
	Gate json.RawMessage `json:"gate,omitempty"`
}

// Source says where a summary came from and how it was captured; compare
// refuses to judge two summaries whose fingerprints differ in ways that matter.
type Source struct {
	File         string `json:"file"`
	NsysVersion  string `json:"nsys_version,omitempty"`
	ExportSchema string `json:"export_schema,omitempty"`
	TraceMode    string `json:"trace_mode"` // TraceNode or TraceGraph
	Scope        string `json:"scope,omitempty"`
	// StepSource says how the steps were found: StepsNVTX (NVTX step
	// ranges), or inferred from the launch stream where no range matched
	// (StepsGraph, StepsSync, StepsRepeat); empty when no steps were found.
	// Summaries written before it existed found steps only by NVTX.
	StepSource    string `json:"step_source,omitempty"`
	WindowStartNs int64  `json:"window_start_ns"`
	WindowEndNs   int64  `json:"window_end_ns"`
	GateVersion   string `json:"gate_version,omitempty"`
	// Legacy is set when the summary was converted from the seed's older
	// summary.json layout, which lacks samples and fingerprints.
	Legacy bool `json:"legacy,omitempty"`
	// Commit is the commit the profile was made from, where known (baselines).
	Commit string `json:"commit,omitempty"`
}

// GPU describes the device(s) the profile ran on.
type GPU struct {
	Name          string  `json:"name,omitempty"`
	Chip          string  `json:"chip,omitempty"`
	SMs           int     `json:"sms,omitempty"`
	MemoryBytes   int64   `json:"memory_bytes,omitempty"`
	PeakBandwidth float64 `json:"peak_bandwidth_bps,omitempty"`
	Driver        string  `json:"driver,omitempty"`
	CUDA          string  `json:"cuda,omitempty"`
	Devices       int     `json:"devices"`
	// NVML is the live reading taken by `gate profile` on the machine itself.
	NVML *NVML `json:"nvml,omitempty"`
}

// NVML is a fingerprint read through NVML at profile time. Available is false
// where no driver or GPU was found; the other fields are then empty.
type NVML struct {
	Available       bool     `json:"available"`
	Name            string   `json:"name,omitempty"`
	UUID            string   `json:"uuid,omitempty"`
	Driver          string   `json:"driver,omitempty"`
	CUDADriver      string   `json:"cuda_driver,omitempty"`
	BusWidthBits    int      `json:"bus_width_bits,omitempty"`
	MaxMemClockMHz  int      `json:"max_mem_clock_mhz,omitempty"`
	PeakBandwidth   float64  `json:"peak_bandwidth_bps,omitempty"`
	SMClockMHz      int      `json:"sm_clock_mhz,omitempty"`
	MemClockMHz     int      `json:"mem_clock_mhz,omitempty"`
	ThrottleReasons []string `json:"throttle_reasons,omitempty"`
	TemperatureC    int      `json:"temperature_c,omitempty"`
	OtherProcesses  int      `json:"other_processes,omitempty"`
	// PCIeGen and PCIeWidth are the host link's generation and lanes;
	// PCIeBandwidth its peak in bytes/s per direction: what copies to and
	// from the host are measured against.
	PCIeGen       int     `json:"pcie_gen,omitempty"`
	PCIeWidth     int     `json:"pcie_width,omitempty"`
	PCIeBandwidth float64 `json:"pcie_bandwidth_bps,omitempty"`
}

// Stat summarises a sample.
type Stat struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Phase is one kind of step (prefill, decode, mixed): its per-step samples and
// their summaries.
type Phase struct {
	Steps       int    `json:"steps"`
	Span        Stat   `json:"span_ns"`      // projected first op start to last op end
	Busy        Stat   `json:"busy_ns"`      // union of the step's GPU ops
	KernelTime  Stat   `json:"kernel_ns"`    // sum of kernel durations
	Kernels     Stat   `json:"kernels"`      // kernels per step
	Memcpys     Stat   `json:"memcpys"`      // memcpy ops per step
	MemcpyBytes Stat   `json:"memcpy_bytes"` // memcpy bytes per step
	DtoH        Stat   `json:"dtoh"`         // device-to-host copies per step
	Syncs       Stat   `json:"syncs"`        // host synchronisations per step
	Samples     []Step `json:"samples"`
	// Tokens and Requests per step, where the step names say (vLLM's
	// execute_context_N(T)_generation_M(G): T+G tokens, N+M requests, or a
	// user pattern's named groups "tokens" and "requests"); nil where no
	// step of the phase names them.
	Tokens   *Stat `json:"tokens,omitempty"`
	Requests *Stat `json:"requests,omitempty"`
	// NsPerToken is each step's span over its tokens (prefill and mixed
	// steps, whose tokens are the prompt's); TokensPerS the phase's tokens
	// over its summed spans.
	NsPerToken *Stat   `json:"ns_per_token,omitempty"`
	TokensPerS float64 `json:"tokens_per_s,omitempty"`
	// Graphs is how the phase's steps ran with CUDA graphs.
	Graphs *PhaseGraphs `json:"cuda_graphs,omitempty"`
	// ByKernel is the phase's kernel time and launches per kernel and
	// component, summed over its steps: the parts add up exactly to the
	// sum of the samples' KernelNs and Kernels, and a component's parts to
	// its time in Components, so a change of kernel time per step can be
	// decomposed by kernel and by component. A kernel name whose demangled
	// variants fall in different components has one part in each. In
	// graph-level traces the replays count as kernel time but name no
	// kernel: they are one pseudo-entry named GraphReplaysKernel, in a
	// component of that name (no component's time holds them), with 0
	// launches (replays are not kernels). Sorted by TotalNs desc, then
	// Name, then Component. Empty in summaries written before it
	// existed and in phases merged from several ranks (MergeRanks keeps one
	// rank's step per index, which per-kernel sums cannot follow).
	ByKernel []PhaseKernel `json:"by_kernel,omitempty"`
}

// CUDA-graph modes of a phase, as vLLM's CUDAGraphMode names them: FULL
// (one graph launch per step holds the step's work), PIECEWISE (several
// graph launches per step, eager attention between them), NONE (eager).
const (
	GraphFull      = "full"
	GraphPiecewise = "piecewise"
	GraphEager     = "eager"
)

// PhaseGraphs is one phase's CUDA-graph use: graph launches and kernels
// inside graphs per step, the share of its kernels (by count and by time)
// inside graphs, and the mode inferred from them (GraphMode).
type PhaseGraphs struct {
	Mode          string  `json:"mode"`
	Launches      Stat    `json:"launches"` // per step
	Kernels       Stat    `json:"kernels"`  // inside graphs, per step (node-level traces)
	CoverageCount float64 `json:"coverage_count_pct"`
	CoverageTime  float64 `json:"coverage_time_pct"`
}

// GraphMode infers a phase's CUDA-graph mode from its median graph launches
// per step and the share of its kernel time inside graphs: no launch is
// eager; one launch holding most of the time is a full graph; several
// launches, or one holding less than half the time, is piecewise.
func GraphMode(launchesP50, coverageTimePct float64) string {
	switch {
	case launchesP50 < 0.5:
		return GraphEager
	case launchesP50 < 1.5 && coverageTimePct >= 50:
		return GraphFull
	}
	return GraphPiecewise
}

// GraphReplaysKernel names the pseudo-entry of Phase.ByKernel that holds
// the time of CUDA-graph replays in graph-level traces.
const GraphReplaysKernel = "(CUDA graph replays)"

// PhaseKernel is one kernel's share of a phase: launches and time summed
// over the phase's steps.
type PhaseKernel struct {
	Name      string `json:"name"` // short name, as in Summary.Kernels
	Component string `json:"component"`
	Launches  int64  `json:"launches"` // summed over the phase's steps
	TotalNs   int64  `json:"total_ns"` // summed over the phase's steps
}

// Step is one step range and what its GPU ops added up to.
type Step struct {
	Name        string `json:"name"`
	StartNs     int64  `json:"start_ns"` // projected GPU start
	SpanNs      int64  `json:"span_ns"`
	BusyNs      int64  `json:"busy_ns"`
	KernelNs    int64  `json:"kernel_ns"`
	Kernels     int    `json:"kernels"`
	Memcpys     int    `json:"memcpys"`
	MemcpyBytes int64  `json:"memcpy_bytes"`
	DtoH        int    `json:"dtoh"`
	Syncs       int    `json:"syncs"`
	// Device is the CUDA device the step's ops ran on (multi-GPU exports).
	Device int `json:"device,omitempty"`
	// Requests and Tokens the step's name gives (0: it does not say).
	Requests int `json:"requests,omitempty"`
	Tokens   int `json:"tokens,omitempty"`
	// GraphLaunches are the CUDA-graph launches whose work projected onto
	// the step; GraphKernels the kernels inside them (node-level traces),
	// GraphNs their time.
	GraphLaunches int   `json:"graph_launches,omitempty"`
	GraphKernels  int   `json:"graph_kernels,omitempty"`
	GraphNs       int64 `json:"graph_ns,omitempty"` // kernel (replay) time inside graphs
}

// Kernel aggregates every launch of one kernel name in the window.
type Kernel struct {
	Name      string  `json:"name"` // short name
	Demangled string  `json:"demangled,omitempty"`
	Component string  `json:"component"`
	Count     int64   `json:"count"`
	TotalNs   int64   `json:"total_ns"`
	AvgNs     float64 `json:"avg_ns"`
	P50Ns     float64 `json:"p50_ns"` // median as nsys stats computes it
	P90Ns     float64 `json:"p90_ns"`
	MinNs     int64   `json:"min_ns"`
	MaxNs     int64   `json:"max_ns"`
	Share     float64 `json:"share"` // of all kernel time in the window, 0..1
	// Per-step counts; zero where the phase has no steps.
	PerDecodeStep  float64 `json:"per_decode_step"`
	PerPrefillStep float64 `json:"per_prefill_step"`
	InGraph        int64   `json:"in_graph"` // launches that were CUDA-graph nodes
}

// PhaseComponents is the component breakdown of one phase (PhaseWindow is
// the whole scope window).
type PhaseComponents struct {
	Phase      string          `json:"phase"`
	Components []ComponentTime `json:"components"`
}

// ComponentTime is the kernel time of one component (attention, gemm, ...).
type ComponentTime struct {
	Name    string  `json:"name"`
	TimeNs  int64   `json:"time_ns"`
	Kernels int64   `json:"kernels"`
	Share   float64 `json:"share"` // of the phase's kernel time, 0..1
}

// Graphs is CUDA-graph coverage. In node mode graph kernels are kernel rows
// with a graph node id; in graph mode each replay is one GRAPH_TRACE row.
type Graphs struct {
	Mode            string  `json:"mode"`
	Replays         int64   `json:"replays"`
	KernelsInGraphs int64   `json:"kernels_in_graphs"`
	KernelsOutside  int64   `json:"kernels_outside"`
	TimeInGraphsNs  int64   `json:"time_in_graphs_ns"`
	TimeOutsideNs   int64   `json:"time_outside_ns"`
	CoverageCount   float64 `json:"coverage_count_pct"` // 0..100
	CoverageTime    float64 `json:"coverage_time_pct"`  // 0..100
}

// Memory is memcpy/memset traffic by direction.
type Memory struct {
	PeakBandwidth float64    `json:"peak_bandwidth_bps,omitempty"`
	Ops           []MemoryOp `json:"ops"`
}

// MemoryOp aggregates one kind of memory operation: Kind is "memcpy" or
// "memset", Direction "HtoD", "DtoH", "DtoD", "PtoP", ... (empty for memset).
type MemoryOp struct {
	Kind      string  `json:"kind"`
	Direction string  `json:"direction,omitempty"`
	Count     int64   `json:"count"`
	Bytes     int64   `json:"bytes"`
	TimeNs    int64   `json:"time_ns"`
	GBps      float64 `json:"gbps"` // achieved: bytes / time
}

// GPUTime is how busy the GPU was inside the scope window.
type GPUTime struct {
	WindowNs int64   `json:"window_ns"`
	BusyNs   int64   `json:"busy_ns"`
	IdleNs   int64   `json:"idle_ns"`
	BusyPct  float64 `json:"busy_pct"`
	IdlePct  float64 `json:"idle_pct"`
	Gaps     []Gap   `json:"longest_gaps,omitempty"`
}

// Gap is an interval with no GPU op running.
type Gap struct {
	StartNs int64 `json:"start_ns"`
	Ns      int64 `json:"ns"`
}

// Device is one GPU of a multi-device profile.
type Device struct {
	ID       int     `json:"id"`
	Name     string  `json:"name,omitempty"`
	BusyNs   int64   `json:"busy_ns"`
	BusyPct  float64 `json:"busy_pct"`
	KernelNs int64   `json:"kernel_ns"`
	Kernels  int64   `json:"kernels"`
	CommNs   int64   `json:"comm_ns"`
	Steps    Stat    `json:"step_span_ns"`
}

// Communication is NCCL activity: collectives and the part of their time not
// hidden behind compute on the same device.
type Communication struct {
	Collectives []Collective `json:"collectives"`
	TimeNs      int64        `json:"time_ns"`
	ExposedNs   int64        `json:"exposed_ns"`
	ExposedPct  float64      `json:"exposed_pct"`
	// Imbalance is (max-min)/max of per-device busy time, 0..1.
	Imbalance      float64   `json:"imbalance"`
	ExposedSteps   Stat      `json:"exposed_per_step_ns"`
	ExposedSamples []float64 `json:"exposed_samples_ns,omitempty"`
}

// Collective aggregates NCCL kernels of one collective (AllReduce, ...).
type Collective struct {
	Name   string  `json:"name"`
	Count  int64   `json:"count"`
	TimeNs int64   `json:"time_ns"`
	Share  float64 `json:"share"` // of kernel time, 0..1
}

// Bandwidth is per-kernel DRAM traffic measured by Nsight Compute.
type Bandwidth struct {
	Source        string            `json:"source"`
	PeakBandwidth float64           `json:"peak_bandwidth_bps,omitempty"`
	Kernels       []KernelBandwidth `json:"kernels"`
}

// KernelBandwidth is one kernel's DRAM traffic, averaged over its profiled launches.
type KernelBandwidth struct {
	Name         string  `json:"name"`
	Launches     int     `json:"launches"`
	DurationNs   float64 `json:"duration_ns"`
	BytesRead    float64 `json:"bytes_read"`
	BytesWritten float64 `json:"bytes_written"`
	GBps         float64 `json:"gbps"`
	PctPeak      float64 `json:"pct_peak"` // of peak DRAM bandwidth, 0..100
	SMPct        float64 `json:"sm_pct"`   // SM throughput, % of peak
	Bound        string  `json:"bound"`    // "memory" or "compute"
}

// GPUMetrics is Nsight Systems' GPU-metrics sampling of a profile: the
// GPU's counters read every 1/FrequencyHz seconds on its own timeline
// (GPU_METRICS, named in TARGET_INFO_GPU_METRICS), integrated over each
// step's projected GPU window and over the scope window. Shares are
// percent (0..100) of the counter's peak, time-weighted; DRAM bytes are
// the sampled share of TARGET_INFO_GPU.memoryBandwidth integrated over
// time. A quantity the GPU does not sample is absent from Metrics and
// reads zero.
type GPUMetrics struct {
	FrequencyHz float64         `json:"frequency_hz"`
	Metrics     []SampledMetric `json:"metrics"` // what was matched, by Key
	Window      SampledWindow   `json:"window"`
	// Phases are the step figures of each phase with steps, by name.
	Phases []PhaseGPUMetrics `json:"phases"`
	// Devices are the window figures of each sampled GPU, when the export
	// sampled more than one.
	Devices []DeviceGPUMetrics `json:"devices,omitempty"`
}

// Keys of the sampled quantities gate reads (SampledMetric.Key).
const (
	SampledGPCClock     = "gpc_clock"
	SampledSMActive     = "sm_active"
	SampledTensorActive = "tensor_active"
	SampledDRAMRead     = "dram_read"
	SampledDRAMWrite    = "dram_write"
	SampledPCIeRX       = "pcie_rx"
	SampledPCIeTX       = "pcie_tx"
)

// Has reports whether the export sampled the quantity key (Sampled*).
func (g *GPUMetrics) Has(key string) bool {
	if g == nil {
		return false
	}
	for _, m := range g.Metrics {
		if m.Key == key {
			return true
		}
	}
	return false
}

// Phase returns the figures of phase name, or nil.
func (g *GPUMetrics) Phase(name string) *PhaseGPUMetrics {
	if g == nil {
		return nil
	}
	for i := range g.Phases {
		if g.Phases[i].Phase == name {
			return &g.Phases[i]
		}
	}
	return nil
}

// SampledMetric is one quantity gate read: its key, the export's name for
// it and the unit that name gives in brackets ("Throughput %", "MHz").
type SampledMetric struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Unit string `json:"unit"`
}

// SampledWindow is what the samples add up to over a window: means are
// time-weighted over the sampled part of it, bytes integrated over it.
type SampledWindow struct {
	Samples        int     `json:"samples"` // sampling instants that overlap the window
	SampledNs      int64   `json:"sampled_ns"`
	DRAMRead       float64 `json:"dram_read_pct"` // of peak DRAM bandwidth
	DRAMWrite      float64 `json:"dram_write_pct"`
	DRAMReadBytes  float64 `json:"dram_read_bytes"`
	DRAMWriteBytes float64 `json:"dram_write_bytes"`
	SMActive       float64 `json:"sm_active_pct"`
	TensorActive   float64 `json:"tensor_active_pct"`
	PCIeRX         float64 `json:"pcie_rx_pct"`
	PCIeTX         float64 `json:"pcie_tx_pct"`
	ClockMinMHz    float64 `json:"gpc_clock_min_mhz"`
	ClockMedianMHz float64 `json:"gpc_clock_median_mhz"`
}

// PhaseGPUMetrics is one phase's sampled figures: per step (Samples, one
// per Phase.Samples entry and in its order) and summarised over the steps
// that were sampled. The clock's minimum and median are over the samples
// inside the phase's steps, time-weighted: a throttled run shows here.
type PhaseGPUMetrics struct {
	Phase          string  `json:"phase"`
	Steps          int     `json:"steps"` // steps with samples
	DRAMReadBytes  Stat    `json:"dram_read_bytes"`
	DRAMWriteBytes Stat    `json:"dram_write_bytes"`
	DRAMRead       Stat    `json:"dram_read_pct"`
	DRAMWrite      Stat    `json:"dram_write_pct"`
	SMActive       Stat    `json:"sm_active_pct"`
	TensorActive   Stat    `json:"tensor_active_pct"`
	PCIeRX         Stat    `json:"pcie_rx_pct"`
	PCIeTX         Stat    `json:"pcie_tx_pct"`
	ClockMinMHz    float64 `json:"gpc_clock_min_mhz"`
	ClockMedianMHz float64 `json:"gpc_clock_median_mhz"`
	// Typical is the samples of the step whose span is the phase's median,
	// for a chart of what one step does.
	Typical *StepTrace       `json:"typical_step,omitempty"`
	Samples []StepGPUMetrics `json:"samples"`
}

// StepGPUMetrics is one step's sampled figures over its projected GPU
// window; N is 0 for a step no sample overlaps (its figures are zero and
// left out of the phase's summaries).
type StepGPUMetrics struct {
	N              int     `json:"n"`
	DRAMReadBytes  float64 `json:"dram_read_bytes"`
	DRAMWriteBytes float64 `json:"dram_write_bytes"`
	DRAMRead       float64 `json:"dram_read_pct"`
	DRAMWrite      float64 `json:"dram_write_pct"`
	SMActive       float64 `json:"sm_active_pct"`
	TensorActive   float64 `json:"tensor_active_pct"`
	PCIeRX         float64 `json:"pcie_rx_pct"`
	PCIeTX         float64 `json:"pcie_tx_pct"`
}

// StepTrace is the samples that overlap one step, as they were taken:
// each covers [OffsetNs, OffsetNs+Ns) from the step's projected start.
type StepTrace struct {
	Step    int          `json:"step"` // index in the phase's samples
	SpanNs  int64        `json:"span_ns"`
	Samples []TracePoint `json:"samples"`
}

// TracePoint is one sample of a StepTrace, in percent of peak.
type TracePoint struct {
	OffsetNs  int64   `json:"offset_ns"`
	Ns        int64   `json:"ns"`
	DRAMRead  float64 `json:"dram_read_pct"`
	DRAMWrite float64 `json:"dram_write_pct"`
	SMActive  float64 `json:"sm_active_pct"`
}

// DeviceGPUMetrics is the window figures of one sampled GPU.
type DeviceGPUMetrics struct {
	ID     int           `json:"id"`
	Window SampledWindow `json:"window"`
}

// ExtraMetric is a metric from outside the profile. Better is "lower" or
// "higher"; Samples, when present, allow a statistical comparison.
type ExtraMetric struct {
	Name    string    `json:"name"`
	Unit    string    `json:"unit"`
	Better  string    `json:"better"`
	Value   float64   `json:"value"`
	Samples []float64 `json:"samples,omitempty"`
	Source  string    `json:"source"`
}

// Warning is something the parser noticed that a reader should know, carried
// as data so reports can show it next to the numbers.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Ways steps are found (Source.StepSource).
const (
	StepsNVTX   = "nvtx"            // NVTX step ranges
	StepsGraph  = "inferred:graph"  // CUDA-graph launches in a fixed pattern per step
	StepsSync   = "inferred:sync"   // eager launches between host synchronisations
	StepsRepeat = "inferred:repeat" // an eager launch sequence repeating without synchronisation
)
