package vllm_test

import (
	"fmt"

	"github.com/nsys-gate/gate/parse/vllm"
)

// Two statistics lines of a vLLM 0.12 server: medians over the window, the
// preemptions of the interval that had some totalled.
func ExampleParseLog() {
	log := `INFO 11-20 14:03:10 [loggers.py:248] Engine 000: Avg prompt throughput: 4000.0 tokens/s, Avg generation throughput: 2000.0 tokens/s, Running: 30 reqs, Waiting: 2 reqs, GPU KV cache usage: 40.0%, Prefix cache hit rate: 30.0%
INFO 11-20 14:03:20 [loggers.py:248] Engine 000: Avg prompt throughput: 600.0 tokens/s, Avg generation throughput: 2200.0 tokens/s, Running: 32 reqs, Waiting: 0 reqs, Preemptions: 3, GPU KV cache usage: 50.0%, Prefix cache hit rate: 40.0%
`
	ms, ws := vllm.ParseLog([]byte(log), "server.log")
	for _, m := range ms {
		fmt.Printf("%-36s %7.1f %-5s %s\n", m.Name, m.Value, m.Unit, direction(m.Better))
	}
	fmt.Println(len(ws), "warnings")
	// Output:
	// vllm.log.generation_throughput        2100.0 tok/s higher
	// vllm.log.gpu_kv_cache_usage_pct         45.0 pct   info
	// vllm.log.preemptions                     3.0 count lower
	// vllm.log.prefix_cache_hit_pct           35.0 pct   higher
	// vllm.log.prompt_throughput            2300.0 tok/s higher
	// vllm.log.running                        31.0 count info
	// vllm.log.waiting                         1.0 count lower
	// 0 warnings
}

// A bench serve result: every *_ms statistic in ms, throughputs per second.
func ExampleParseBench() {
	result := `{"completed": 2, "request_throughput": 4.0, "output_throughput": 512.0, "total_token_throughput": 1536.0,
	"mean_ttft_ms": 80.0, "median_ttft_ms": 79.0, "std_ttft_ms": 3.0, "p99_ttft_ms": 90.5, "p99.9_itl_ms": 14.0}`
	ms, _ := vllm.ParseBench([]byte(result), "serve.json")
	for _, m := range ms {
		fmt.Printf("%-28s %7.1f %-5s %s\n", m.Name, m.Value, m.Unit, direction(m.Better))
	}
	// Output:
	// vllm.completed                   2.0 count info
	// vllm.itl.p99_9_ms               14.0 ms    lower
	// vllm.output_throughput         512.0 tok/s higher
	// vllm.request_throughput          4.0 req/s higher
	// vllm.total_token_throughput   1536.0 tok/s higher
	// vllm.ttft.mean_ms               80.0 ms    lower
	// vllm.ttft.median_ms             79.0 ms    lower
	// vllm.ttft.p99_ms                90.5 ms    lower
	// vllm.ttft.std_ms                 3.0 ms    lower
}

func direction(better string) string {
	if better == vllm.BetterInfo {
		return "info"
	}
	return better
}
