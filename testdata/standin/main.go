// Command standin is a stand-in for a vLLM OpenAI-compatible server, for
// testing `gate profile --server` without a GPU or vLLM. It speaks the same
// endpoints: GET /health, GET /v1/models, POST /v1/completions (plain and
// streaming SSE), GET /metrics (vLLM V1 Prometheus names), POST
// /start_profile and /stop_profile, and prints vLLM's periodic statistics
// line. Flags make it misbehave the ways a real server does: start slowly,
// crash after N requests, answer slowly, ignore SIGINT, leave a child behind.
//
// It lives under testdata so that `go build ./...` ignores it; tests build it
// with `go build -o DIR/standin ./testdata/standin`.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	addr          = flag.String("addr", "127.0.0.1:8000", "listen address")
	startDelay    = flag.Duration("start-delay", 0, "answer /health with 503 for this long after start (model loading)")
	crashAfter    = flag.Int("crash-after", 0, "exit with status 3 while serving the Nth completion request (0: never)")
	tokenDelay    = flag.Duration("token-delay", time.Millisecond, "time per generated token")
	prefillDelay  = flag.Duration("prefill-delay", 2*time.Millisecond, "time before the first token")
	ignoreSIGINT  = flag.Bool("ignore-sigint", false, "ignore SIGINT (and SIGTERM with -ignore-sigterm), as a hung server does")
	ignoreSIGTERM = flag.Bool("ignore-sigterm", false, "ignore SIGTERM too")
	spawnChild    = flag.Bool("spawn-child", false, "start a child process in the same process group, as vLLM's engine core is")
	noProfile     = flag.Bool("no-profile-endpoints", false, "answer /start_profile and /stop_profile with 404, as vLLM does without a profiler config")
	logInterval   = flag.Duration("log-interval", 200*time.Millisecond, "period of the statistics log line")
	childMode     = flag.Bool("child", false, "internal: run as the idle child process")
)

func main() {
	flag.Parse()
	if *childMode {
		signal.Ignore(syscall.SIGINT)
		select {}
	}
	if *ignoreSIGINT {
		signal.Ignore(syscall.SIGINT)
	}
	if *ignoreSIGTERM {
		signal.Ignore(syscall.SIGTERM)
	}
	if *spawnChild {
		child := exec.Command(os.Args[0], "-child")
		if err := child.Start(); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("INFO standin: child pid %d\n", child.Process.Pid)
	}
	s := &server{start: time.Now(), success: map[string]float64{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", s.health)
	mux.HandleFunc("/v1/models", s.models)
	mux.HandleFunc("/v1/completions", s.completions)
	mux.HandleFunc("/metrics", s.metrics)
	mux.HandleFunc("/start_profile", s.profile(true))
	mux.HandleFunc("/stop_profile", s.profile(false))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("INFO standin: vLLM stand-in listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux}
	go s.logStats()

	sig := make(chan os.Signal, 1)
	// Notify would undo Ignore: ask only for the signals not ignored.
	if !*ignoreSIGINT {
		signal.Notify(sig, syscall.SIGINT)
	}
	if !*ignoreSIGTERM {
		signal.Notify(sig, syscall.SIGTERM)
	}
	go func() {
		got := <-sig
		fmt.Printf("INFO standin: %v, shutting down\n", got)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
	fmt.Println("INFO standin: stopped")
}

// server holds what /metrics reports, in vLLM's V1 names.
type server struct {
	start time.Time

	mu                       sync.Mutex
	requests                 int
	running                  int
	promptTokens, genTokens  float64
	intervalPrompt, interGen float64
	success                  map[string]float64
	ttft, itl, e2e           hist
	prefill, decode, queue   hist
	profiling                bool
}

type hist struct {
	obs []float64
}

func (s *server) ready() bool { return time.Since(s.start) >= *startDelay }

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	if !s.ready() {
		http.Error(w, "loading", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *server) models(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"object":"list","data":[{"id":"standin","object":"model","owned_by":"vllm"}]}`)
}

func (s *server) profile(start bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if *noProfile {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.mu.Lock()
		s.profiling = start
		s.mu.Unlock()
		fmt.Printf("INFO standin: profiling %v\n", start)
		w.WriteHeader(http.StatusOK)
	}
}

type completionRequest struct {
	Model     string `json:"model"`
	Prompt    string `json:"prompt"`
	MaxTokens int    `json:"max_tokens"`
	Stream    bool   `json:"stream"`
}

func (s *server) completions(w http.ResponseWriter, r *http.Request) {
	if !s.ready() {
		http.Error(w, "loading", http.StatusServiceUnavailable)
		return
	}
	var req completionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MaxTokens <= 0 {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests++
	n := s.requests
	s.running++
	s.mu.Unlock()
	if *crashAfter > 0 && n >= *crashAfter {
		fmt.Printf("ERROR standin: crashing on request %d\n", n)
		os.Exit(3)
	}
	prompt := len(strings.Fields(req.Prompt))
	t0 := time.Now()
	flusher, _ := w.(http.Flusher)
	if req.Stream {
		w.Header().Set("Content-Type", "text/event-stream")
	}
	time.Sleep(*prefillDelay)
	first := time.Since(t0)
	last := time.Now()
	var itls []float64
	var text strings.Builder
	for i := 0; i < req.MaxTokens; i++ {
		if i > 0 {
			time.Sleep(*tokenDelay)
			itls = append(itls, time.Since(last).Seconds())
			last = time.Now()
		}
		text.WriteString(" tok")
		if req.Stream {
			fmt.Fprintf(w, "data: {\"id\":\"cmpl-%d\",\"object\":\"text_completion\",\"model\":%q,\"choices\":[{\"index\":0,\"text\":\" tok\",\"finish_reason\":null}]}\n\n", n, req.Model)
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	usage := fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}`, prompt, req.MaxTokens, prompt+req.MaxTokens)
	if req.Stream {
		fmt.Fprintf(w, "data: {\"id\":\"cmpl-%d\",\"object\":\"text_completion\",\"model\":%q,\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}],\"usage\":%s}\n\n", n, req.Model, usage)
		fmt.Fprint(w, "data: [DONE]\n\n")
	} else {
		w.Header().Set("Content-Type", "application/json")
		body, _ := json.Marshal(text.String())
		fmt.Fprintf(w, `{"id":"cmpl-%d","object":"text_completion","model":%q,"choices":[{"index":0,"text":%s,"finish_reason":"length"}],"usage":%s}`, n, req.Model, body, usage)
	}
	e2e := time.Since(t0).Seconds()
	s.mu.Lock()
	s.running--
	s.promptTokens += float64(prompt)
	s.genTokens += float64(req.MaxTokens)
	s.intervalPrompt += float64(prompt)
	s.interGen += float64(req.MaxTokens)
	s.success["length"]++
	s.ttft.obs = append(s.ttft.obs, first.Seconds())
	s.itl.obs = append(s.itl.obs, itls...)
	s.e2e.obs = append(s.e2e.obs, e2e)
	s.prefill.obs = append(s.prefill.obs, first.Seconds())
	s.decode.obs = append(s.decode.obs, e2e-first.Seconds())
	s.queue.obs = append(s.queue.obs, 0)
	s.mu.Unlock()
}

// logStats prints vLLM 0.12's statistics line, skipping idle intervals as
// vLLM does (it logs them at debug level).
func (s *server) logStats() {
	last := time.Now()
	for range time.Tick(*logInterval) {
		s.mu.Lock()
		dt := time.Since(last).Seconds()
		last = time.Now()
		p, g := s.intervalPrompt/dt, s.interGen/dt
		s.intervalPrompt, s.interGen = 0, 0
		running := s.running
		s.mu.Unlock()
		if p == 0 && g == 0 && running == 0 {
			continue
		}
		fmt.Printf("INFO %s [loggers.py:248] Engine 000: Avg prompt throughput: %.1f tokens/s, Avg generation throughput: %.1f tokens/s, Running: %d reqs, Waiting: 0 reqs, GPU KV cache usage: %.1f%%, Prefix cache hit rate: 0.0%%\n",
			time.Now().Format("01-02 15:04:05"), p, g, running, float64(running)*1.5)
	}
}

var (
	ttftBuckets    = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	itlBuckets     = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0}
	requestBuckets = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
)

const labels = `engine="0",model_name="standin"`

func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s{%s} %s\n", name, help, name, name, labels, fl(v))
	}
	counter := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s{%s} %s\n", name, help, name, name, labels, fl(v))
	}
	histogram := func(name, help string, bounds []float64, h hist) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
		sum := 0.0
		for _, o := range h.obs {
			sum += o
		}
		for _, b := range append(bounds, 0) {
			le, c := fl(b), 0
			if b == 0 {
				le, c = "+Inf", len(h.obs)
			} else {
				for _, o := range h.obs {
					if o <= b {
						c++
					}
				}
			}
			fmt.Fprintf(w, "%s_bucket{engine=\"0\",le=\"%s\",model_name=\"standin\"} %s\n", name, le, fl(float64(c)))
		}
		fmt.Fprintf(w, "%s_count{%s} %s\n%s_sum{%s} %s\n", name, labels, fl(float64(len(h.obs))), name, labels, fl(sum))
	}
	gauge("vllm:num_requests_running", "Number of requests in model execution batches.", float64(s.running))
	gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", 0)
	gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", float64(s.running)*0.015)
	counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.", 0)
	counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", s.promptTokens)
	counter("vllm:generation_tokens_total", "Number of generation tokens processed.", s.genTokens)
	fmt.Fprint(w, "# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n")
	reasons := make([]string, 0, len(s.success))
	for k := range s.success {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Fprintf(w, "vllm:request_success_total{engine=\"0\",finished_reason=%q,model_name=\"standin\"} %s\n", k, fl(s.success[k]))
	}
	histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttftBuckets, s.ttft)
	histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itlBuckets, s.itl)
	histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", requestBuckets, s.e2e)
	histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", requestBuckets, s.queue)
	histogram("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", requestBuckets, s.prefill)
	histogram("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", requestBuckets, s.decode)
}

// fl formats like Python's repr(float), as prometheus_client does.
func fl(v float64) string {
	s := fmt.Sprintf("%v", v)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}
