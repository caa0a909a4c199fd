package auditor

import (
	"encoding/json"
	"sort"

	"github.com/sek-dev/sek/pkg/audit"
)

// MetricsNamespace is the CloudWatch namespace of the function's metrics.
const MetricsNamespace = "Sek"

// Metric names, for dashboards and alarms.
const (
	MetricClustersScanned  = "ClustersScanned"
	MetricScopeErrors      = "ScopeErrors"
	MetricFindingsImported = "FindingsImported"
	MetricFindingsCreated  = "FindingsCreated"
	MetricFindingsFailed   = "FindingsFailed"
	MetricFindingsArchived = "FindingsArchived"
	MetricFindingsResolved = "FindingsResolved"
	MetricPublishErrors    = "PublishRegionErrors"
	MetricFanOut           = "FanOutInvocations"
	MetricFailed           = "InvocationFailed"
	MetricDuration         = "Duration"
	MetricResults          = "Results"
)

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// emit writes the invocation's metrics as CloudWatch Embedded Metric Format documents, one JSON
// line each: CloudWatch Logs turns them into metrics without any API call from the function.
// The first document carries the run's counters by Route; the others carry result counts by
// Status and Severity (and by Status alone, for totals).
func (h *Handler) emit(resp *Response, err error) {
	ts := h.now().UnixMilli()
	failed := 0
	if err != nil {
		failed = 1
	}
	main := map[string]any{
		"Route":                string(resp.Route),
		"requestId":            resp.RequestID,
		MetricClustersScanned:  resp.ClustersScanned,
		MetricScopeErrors:      len(resp.Errors),
		MetricFanOut:           len(resp.FanOut),
		MetricFailed:           failed,
		MetricDuration:         resp.DurationMS,
		MetricFindingsImported: 0, MetricFindingsCreated: 0, MetricFindingsFailed: 0,
		MetricFindingsArchived: 0, MetricFindingsResolved: 0, MetricPublishErrors: 0,
	}
	if o := resp.Publish; o != nil {
		main[MetricFindingsImported] = o.Imported
		main[MetricFindingsCreated] = o.Created
		main[MetricFindingsFailed] = len(o.Failed)
		main[MetricFindingsArchived] = o.Archived
		main[MetricFindingsResolved] = o.Resolved
		main[MetricPublishErrors] = len(o.Errors) + len(o.SkippedRegions)
	}
	counts := []string{MetricClustersScanned, MetricScopeErrors, MetricFindingsImported, MetricFindingsCreated, MetricFindingsFailed,
		MetricFindingsArchived, MetricFindingsResolved, MetricPublishErrors, MetricFanOut, MetricFailed}
	ms := make([]emfMetric, 0, len(counts)+1)
	for _, n := range counts {
		ms = append(ms, emfMetric{Name: n, Unit: "Count"})
	}
	ms = append(ms, emfMetric{Name: MetricDuration, Unit: "Milliseconds"})
	main["_aws"] = emfMeta{Timestamp: ts, CloudWatchMetrics: []emfDirective{{Namespace: MetricsNamespace, Dimensions: [][]string{{"Route"}}, Metrics: ms}}}
	h.writeEMF(main)

	type key struct {
		status   audit.Status
		severity string
	}
	by := map[key]int{}
	for _, r := range resp.results {
		by[key{r.Status, r.Severity.String()}]++
	}
	keys := make([]key, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].status != keys[j].status {
			return keys[i].status < keys[j].status
		}
		return keys[i].severity < keys[j].severity
	})
	for _, k := range keys {
		h.writeEMF(map[string]any{
			"_aws": emfMeta{Timestamp: ts, CloudWatchMetrics: []emfDirective{{Namespace: MetricsNamespace,
				Dimensions: [][]string{{"Status", "Severity"}, {"Status"}},
				Metrics:    []emfMetric{{Name: MetricResults, Unit: "Count"}}}}},
			"Status":      string(k.status),
			"Severity":    k.severity,
			"requestId":   resp.RequestID,
			MetricResults: by[k],
		})
	}
}

func (h *Handler) writeEMF(doc map[string]any) {
	b, err := json.Marshal(doc)
	if err != nil {
		h.log.Error("encode metrics", "error", err)
		return
	}
	_, _ = h.opts.Metrics.Write(append(b, '\n'))
}
