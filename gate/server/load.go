package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nsys-gate/gate/internal/stats"
	"github.com/nsys-gate/gate/parse"
	"github.com/nsys-gate/gate/parse/vllm"
)

// reqResult is one request of the load as the client saw it. Times are
// seconds; err is empty on success.
type reqResult struct {
	err       string
	ttft      float64
	itls      []float64
	e2e       float64
	outTokens int
}

// promptWords is the vocabulary prompts are drawn from: short common words,
// about one token each for most tokenizers.
var promptWords = strings.Fields(`the of and to in is was for on that with as by at from his
it an were are which this be or has had not first one their its new after who they have her she two
been other when there all during into school time may years more most only over city some world
would where later up such used many can state about national out known university united then made`)

// prompt is request i's prompt: the same words for the same seed and index.
func prompt(seed int64, i, words int) string {
	r := rand.New(rand.NewSource(seed*1_000_003 + int64(i)))
	w := make([]string, words)
	for k := range w {
		w[k] = promptWords[r.Intn(len(promptWords))]
	}
	return strings.Join(w, " ")
}

// runLoad sends lo.Requests streaming completions, lo.Concurrency at a time,
// in index order, and returns each one's result and the wall time.
func runLoad(ctx context.Context, client *http.Client, base string, lo LoadOptions, model string) ([]reqResult, time.Duration) {
	rs := make([]reqResult, lo.Requests)
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < lo.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rs[i] = request(ctx, client, base+lo.Endpoint, lo, model, prompt(lo.Seed, i, lo.PromptTokens))
			}
		}()
	}
	for i := 0; i < lo.Requests; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return rs, time.Since(start)
}

// request sends one streaming completion and times it (see readStream).
func request(ctx context.Context, client *http.Client, url string, lo LoadOptions, model, text string) reqResult {
	if ctx.Err() != nil {
		return reqResult{err: ctx.Err().Error()}
	}
	body, _ := json.Marshal(map[string]any{
		"model": model, "prompt": text, "max_tokens": lo.OutputTokens, "temperature": 0,
		"ignore_eos": true, "stream": true, "stream_options": map[string]any{"include_usage": true},
	})
	rctx, cancel := context.WithTimeout(ctx, lo.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return reqResult{err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return reqResult{err: err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return reqResult{err: fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(msg))}
	}
	return readStream(resp.Body, t0)
}

// streamChunk is one server-sent event of a streaming completion.
type streamChunk struct {
	Choices []struct {
		Text string `json:"text"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

// readStream times the chunks of a completion sent at t0: the first chunk
// with text is the first token, the gaps between later ones are inter-token
// latencies. The token count is the server's usage report when it sends
// one, else the number of chunks.
func readStream(body io.Reader, t0 time.Time) reqResult {
	var r reqResult
	var last time.Time
	chunks, usage := 0, -1
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	done := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data:") {
			continue
		}
		data := strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		if data == "[DONE]" {
			done = true
			break
		}
		var chunk streamChunk
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			return reqResult{err: "bad stream chunk: " + err.Error()}
		}
		if chunk.Usage != nil {
			usage = chunk.Usage.CompletionTokens
		}
		if len(chunk.Choices) == 0 || chunk.Choices[0].Text == "" {
			continue
		}
		now := time.Now()
		if chunks == 0 {
			r.ttft = now.Sub(t0).Seconds()
		} else {
			r.itls = append(r.itls, now.Sub(last).Seconds())
		}
		last = now
		chunks++
	}
	if err := sc.Err(); err != nil {
		return reqResult{err: err.Error()}
	}
	if !done {
		return reqResult{err: "stream ended without [DONE]"}
	}
	if chunks == 0 {
		return reqResult{err: "no tokens in the response"}
	}
	r.e2e = time.Since(t0).Seconds()
	r.outTokens = chunks
	if usage >= 0 {
		r.outTokens = usage
	}
	return r
}

func firstError(rs []reqResult) string {
	for _, r := range rs {
		if r.err != "" {
			return r.err
		}
	}
	return "no error recorded"
}

// loadMetrics turns the client-side results into load.* metrics, in ms,
// with per-request samples so that compare can test them statistically.
func loadMetrics(rs []reqResult, wall time.Duration) ([]parse.ExtraMetric, []parse.Warning, int, int) {
	var ttft, e2e, itl, tpot []float64
	out, completed, failed := 0, 0, 0
	for _, r := range rs {
		if r.err != "" {
			failed++
			continue
		}
		completed++
		out += r.outTokens
		ttft = append(ttft, r.ttft*1000)
		e2e = append(e2e, r.e2e*1000)
		for _, x := range r.itls {
			itl = append(itl, x*1000)
		}
		if r.outTokens > 1 {
			tpot = append(tpot, (r.e2e-r.ttft)*1000/float64(r.outTokens-1))
		}
	}
	const src = "gate load"
	m := func(name, unit, better string, v float64) parse.ExtraMetric {
		return parse.ExtraMetric{Name: name, Unit: unit, Better: better, Value: v, Source: src}
	}
	ms := []parse.ExtraMetric{
		m("load.requests", "count", vllm.BetterInfo, float64(len(rs))),
		m("load.failed", "count", vllm.BetterLower, float64(failed)),
	}
	if secs := wall.Seconds(); secs > 0 && completed > 0 {
		ms = append(ms,
			m("load.request_throughput", "req/s", vllm.BetterHigher, float64(completed)/secs),
			m("load.output_throughput", "tok/s", vllm.BetterHigher, float64(out)/secs))
	}
	for _, s := range []struct {
		name string
		xs   []float64
	}{{"ttft", ttft}, {"itl", itl}, {"e2el", e2e}, {"tpot", tpot}} {
		if len(s.xs) == 0 {
			continue
		}
		sorted := stats.Sorted(s.xs)
		ms = append(ms, m("load."+s.name+".mean_ms", "ms", vllm.BetterLower, stats.Mean(s.xs)))
		for _, p := range []float64{50, 90, 99} {
			pm := m(fmt.Sprintf("load.%s.p%g_ms", s.name, p), "ms", vllm.BetterLower, stats.Percentile(sorted, p/100))
			if p == 50 && len(s.xs) <= 10000 {
				// The samples go with the median: compare tests them and
				// shows their median, which is this value.
				pm.Samples = s.xs
			}
			ms = append(ms, pm)
		}
	}
	var ws []parse.Warning
	if failed > 0 {
		ws = append(ws, parse.Warning{Code: "load-failed", Message: fmt.Sprintf("%d of %d requests failed, first: %s", failed, len(rs), firstError(rs))})
	}
	return ms, ws, completed, failed
}

// firstModel asks /v1/models for the served model's name; "default" when
// the server does not say.
func firstModel(ctx context.Context, client *http.Client, base string) string {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, base+"/v1/models", nil)
	resp, err := client.Do(req)
	if err != nil {
		return "default"
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil || len(list.Data) == 0 {
		return "default"
	}
	return list.Data[0].ID
}

// scrape reads /metrics; a server without one gives a warning, not an error.
func scrape(ctx context.Context, client *http.Client, base string) (*vllm.Scrape, []parse.Warning) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, base+"/metrics", nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, []parse.Warning{{Code: "server-metrics", Message: "scraping /metrics: " + err.Error()}}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, []parse.Warning{{Code: "server-metrics", Message: "scraping /metrics: " + resp.Status}}
	}
	s, err := vllm.ParseScrape(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, []parse.Warning{{Code: "server-metrics", Message: "/metrics: " + err.Error()}}
	}
	return s, nil
}

// post calls a control endpoint (/start_profile, /stop_profile).
func post(ctx context.Context, client *http.Client, url string) error {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodPost, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return nil
}
