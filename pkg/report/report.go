// Package report renders scan results and the check catalog for people (table, markdown) and for
// programs (JSON, CSV).
package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/sek-dev/sek/pkg/audit"
)

// Document is the JSON contract of `sek scan --output json`.
type Document struct {
	Version    string            `json:"version"`
	StartedAt  string            `json:"startedAt"`
	FinishedAt string            `json:"finishedAt"`
	Regions    []string          `json:"regions"`
	Results    []audit.Result    `json:"results"`
	Errors     []audit.ScanError `json:"errors"`
	Summary    audit.Summary     `json:"summary"`
	// Publish is filled when findings were published to Security Hub.
	Publish any `json:"publish,omitempty"`
}

// NewDocument builds the JSON document of a report.
func NewDocument(rep *audit.Report, version string) Document {
	d := Document{
		Version:    version,
		StartedAt:  rep.StartedAt.Format("2006-01-02T15:04:05Z07:00"),
		FinishedAt: rep.FinishedAt.Format("2006-01-02T15:04:05Z07:00"),
		Regions:    rep.Regions,
		Results:    rep.Results,
		Errors:     rep.Errors,
		Summary:    audit.Summarize(rep),
	}
	if d.Results == nil {
		d.Results = []audit.Result{}
	}
	if d.Errors == nil {
		d.Errors = []audit.ScanError{}
	}
	if d.Regions == nil {
		d.Regions = []string{}
	}
	return d
}

// JSON writes the document, indented. Results are encoded one at a time: encoding the whole
// document at once would hold the entire output (tens of megabytes for a thousand clusters) in
// memory twice, once encoded and once indented. The bytes are those json.Encoder with
// SetIndent("", "  ") writes for the same document.
func JSON(w io.Writer, d Document) error {
	// A bufio.Writer keeps its first error and returns it from Flush, so the writes below need
	// no checks of their own.
	bw := bufio.NewWriterSize(w, 64<<10)
	field := func(name string, v any, last bool) error {
		b, err := json.MarshalIndent(v, "  ", "  ")
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		fmt.Fprintf(bw, "  %q: ", name)
		fmt.Fprintf(bw, "%s", b)
		if !last {
			fmt.Fprint(bw, ",")
		}
		fmt.Fprint(bw, "\n")
		return nil
	}
	fmt.Fprint(bw, "{\n")
	for _, f := range []struct {
		name string
		v    any
	}{{"version", d.Version}, {"startedAt", d.StartedAt}, {"finishedAt", d.FinishedAt}, {"regions", d.Regions}} {
		if err := field(f.name, f.v, false); err != nil {
			return err
		}
	}
	if len(d.Results) == 0 {
		if err := field("results", d.Results, false); err != nil {
			return err
		}
	} else {
		fmt.Fprint(bw, "  \"results\": [\n")
		for i := range d.Results {
			b, err := json.MarshalIndent(&d.Results[i], "    ", "  ")
			if err != nil {
				return fmt.Errorf("encode result %d: %w", i, err)
			}
			fmt.Fprint(bw, "    ")
			fmt.Fprintf(bw, "%s", b)
			if i < len(d.Results)-1 {
				fmt.Fprint(bw, ",")
			}
			fmt.Fprint(bw, "\n")
		}
		fmt.Fprint(bw, "  ],\n")
	}
	if err := field("errors", d.Errors, false); err != nil {
		return err
	}
	if err := field("summary", d.Summary, d.Publish == nil); err != nil {
		return err
	}
	if d.Publish != nil {
		if err := field("publish", d.Publish, true); err != nil {
			return err
		}
	}
	fmt.Fprint(bw, "}\n")
	return bw.Flush()
}

// CSVHeader is the column order of the CSV output.
var csvHeader = []string{"checkId", "title", "severity", "status", "muted", "region", "accountId", "clusterName", "resourceType", "resourceArn", "message", "references"}

// CSV writes one row per result.
func CSV(w io.Writer, results []audit.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	for _, r := range results {
		var refs []string
		for _, ref := range r.References {
			refs = append(refs, ref.Standard+" "+ref.Control)
		}
		row := []string{r.CheckID, r.Title, r.Severity.String(), string(r.Status), fmt.Sprint(r.Muted), r.Region, r.AccountID,
			r.ClusterName, r.ResourceType, r.ResourceARN, r.Message, strings.Join(refs, "; ")}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// TableOptions tune the human table.
type TableOptions struct {
	Color bool
	// ShowPassed lists PASS and NOT_APPLICABLE rows too; by default only what needs attention.
	ShowPassed bool
	// Accounts, set for multi-account scans, adds an ACCOUNT column and a per-account summary.
	Accounts []audit.AccountSummary
}

const (
	ansiReset  = "\033[0m"
	ansiRed    = "\033[31m"
	ansiBold   = "\033[1m"
	ansiYellow = "\033[33m"
	ansiCyan   = "\033[36m"
	ansiGreen  = "\033[32m"
	ansiGrey   = "\033[90m"
)

func severityColor(s audit.Severity) string {
	switch s {
	case audit.Critical:
		return ansiBold + ansiRed
	case audit.High:
		return ansiRed
	case audit.Medium:
		return ansiYellow
	case audit.Low:
		return ansiCyan
	}
	return ansiGrey
}

// Table writes results for people: failures and errors first, then a summary per cluster and per
// severity, then scopes that could not be scanned.
func Table(w io.Writer, rep *audit.Report, o TableOptions) error {
	paint := func(code, s string) string {
		if !o.Color {
			return s
		}
		return code + s + ansiReset
	}
	multi := len(o.Accounts) > 0
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if multi {
		fmt.Fprint(tw, "ACCOUNT\t")
	}
	fmt.Fprintln(tw, "STATUS\tSEVERITY\tCHECK\tREGION\tCLUSTER\tRESOURCE\tMESSAGE")
	rows := 0
	for _, r := range rep.Results {
		if !o.ShowPassed && (r.Status == audit.Pass || r.Status == audit.NotApplicable) {
			continue
		}
		status := string(r.Status)
		if r.Muted {
			status += " (muted)"
		}
		statusCell := status
		switch {
		case r.Muted:
			statusCell = paint(ansiGrey, status)
		case r.Status == audit.Fail:
			statusCell = paint(severityColor(r.Severity), status)
		case r.Status == audit.Error:
			statusCell = paint(ansiBold, status)
		case r.Status == audit.Pass:
			statusCell = paint(ansiGreen, status)
		}
		if multi {
			fmt.Fprintf(tw, "%s\t", r.AccountID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", statusCell, paint(severityColor(r.Severity), r.Severity.String()), r.CheckID,
			r.Region, r.ClusterName, shortResource(r), r.Message)
		rows++
	}
	if rows == 0 {
		if multi {
			fmt.Fprint(tw, "-\t")
		}
		fmt.Fprintln(tw, "-\t-\t-\t-\t-\t-\tnothing failed")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	s := audit.Summarize(rep)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Per cluster:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CLUSTER\tPASS\tFAIL\tERROR\tN/A")
	keys := make([]string, 0, len(s.ByCluster))
	for k := range s.ByCluster {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := s.ByCluster[k]
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\n", k, c[audit.Pass], c[audit.Fail], c[audit.Error], c[audit.NotApplicable])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if multi {
		if err := accountTable(w, o.Accounts, paint); err != nil {
			return err
		}
	}
	var sev []string
	for i := len(audit.Severities()) - 1; i >= 0; i-- {
		v := audit.Severities()[i]
		sev = append(sev, paint(severityColor(v), fmt.Sprintf("%s %d", v, s.FailedBy[v])))
	}
	fmt.Fprintf(w, "\nFailures by severity: %s\n", strings.Join(sev, ", "))
	fmt.Fprintf(w, "Results: %d (pass %d, fail %d, error %d, not applicable %d, muted %d) across %d clusters in %d regions",
		s.Total, s.ByStatus[audit.Pass], s.ByStatus[audit.Fail], s.ByStatus[audit.Error], s.ByStatus[audit.NotApplicable], s.Muted, s.Clusters, len(rep.Regions))
	if multi {
		fmt.Fprintf(w, " of %d accounts", len(o.Accounts))
	}
	fmt.Fprintln(w, ".")
	if len(rep.Errors) > 0 {
		fmt.Fprintf(w, "\n%s\n", paint(ansiBold+ansiRed, fmt.Sprintf("Could not scan %d scope(s):", len(rep.Errors))))
		for _, e := range rep.Errors {
			fmt.Fprintf(w, "  %s [%s]: %s\n", e.Scope, e.Stage, e.Message)
		}
	}
	return nil
}

func accountTable(w io.Writer, accounts []audit.AccountSummary, paint func(code, s string) string) error {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Per account:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACCOUNT\tNAME\tSTATUS\tREGIONS\tCLUSTERS\tPASS\tFAIL\tERROR\tN/A\tSCOPE ERRORS")
	for _, a := range accounts {
		status := a.Status
		switch a.Status {
		case audit.AccountFailed:
			status = paint(ansiBold+ansiRed, status)
		case audit.AccountIncomplete:
			status = paint(ansiYellow, status)
		}
		name := a.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", a.AccountID, name, status, a.Regions, a.Clusters,
			a.ByStatus[audit.Pass], a.ByStatus[audit.Fail], a.ByStatus[audit.Error], a.ByStatus[audit.NotApplicable], a.ScopeErrors)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func shortResource(r audit.Result) string {
	if i := strings.LastIndex(r.ResourceARN, ":"); i >= 0 && r.ResourceType != "AwsEksCluster" {
		return r.ResourceARN[i+1:]
	}
	if r.ResourceType == "AwsEksCluster" {
		return "cluster"
	}
	return r.ResourceARN
}

// WriteJSON writes any value as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
