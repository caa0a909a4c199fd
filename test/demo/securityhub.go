package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/asff"
)

// securityHubLifecycle shows what a user sees in Security Hub after a publish, then changes the
// estate (a fix and a deleted cluster), publishes again and shows the console once more.
func securityHubLifecycle(ctx context.Context, sek string, scanArgs []string, cfgFor demo.ConfigFor) error {
	fmt.Println("\n== Security Hub after the first publish (what the console lists per cluster)")
	if err := printConsole(ctx, cfgFor); err != nil {
		return err
	}
	fmt.Println("\n== the estate changes: analytics enables every control-plane log type; dev-sandbox is deleted")
	all := []ekstypes.LogType{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	if _, err := eks.NewFromConfig(cfgFor("eu-west-1")).UpdateClusterConfig(ctx, &eks.UpdateClusterConfigInput{
		Name:    aws.String("analytics"),
		Logging: &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: all}}},
	}); err != nil {
		return fmt.Errorf("enable logging on analytics: %w", err)
	}
	if _, err := eks.NewFromConfig(cfgFor("us-east-1")).DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("dev-sandbox")}); err != nil {
		return fmt.Errorf("delete dev-sandbox: %w", err)
	}
	pub := append(append([]string{}, scanArgs...), "--publish", "--output", "json")
	fmt.Printf("\n== %s %s  (summary of the JSON)\n", sek, strings.Join(pub, " "))
	out, err := sekOutput(ctx, sek, pub...)
	if err != nil {
		return err
	}
	fmt.Println(summariseJSON(out))
	fmt.Println("== Security Hub after the second publish")
	return printConsole(ctx, cfgFor)
}

func printConsole(ctx context.Context, cfgFor demo.ConfigFor) error {
	type row struct{ failedNew, passedResolved, suppressed, other, archived int }
	rows := map[string]*row{}
	var changed []string
	for _, region := range demo.Regions() {
		pages := sh.NewGetFindingsPaginator(sh.NewFromConfig(cfgFor(region)), &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("read Security Hub findings in %s: %w", region, err)
			}
			for _, f := range page.Findings {
				name := f.ProductFields[asff.FieldCluster]
				if name == "" {
					name = f.ProductFields[asff.FieldTarget] // the region's account-level services
				}
				key := region + "/" + name
				r := rows[key]
				if r == nil {
					r = &row{}
					rows[key] = r
				}
				wf := shtypes.WorkflowStatusNew
				if f.Workflow != nil {
					wf = f.Workflow.Status
				}
				switch {
				case f.RecordState == shtypes.RecordStateArchived:
					r.archived++
				case wf == shtypes.WorkflowStatusSuppressed:
					r.suppressed++
				case f.Compliance.Status == shtypes.ComplianceStatusFailed && wf == shtypes.WorkflowStatusNew:
					r.failedNew++
				case f.Compliance.Status == shtypes.ComplianceStatusPassed && wf == shtypes.WorkflowStatusResolved:
					r.passedResolved++
				default:
					r.other++
				}
				if f.ProductFields[asff.FieldCheckID] == "EKS_CONTROL_PLANE_LOGGING_ALL" && f.ProductFields[asff.FieldCluster] == "analytics" {
					changed = append(changed, fmt.Sprintf("%s: %s, workflow %s, %s, created %s, updated %s",
						aws.ToString(f.Id), f.Compliance.Status, wf, f.RecordState, aws.ToString(f.CreatedAt), aws.ToString(f.UpdatedAt)))
				}
			}
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CLUSTER\tFAILED+NEW\tPASSED+RESOLVED\tSUPPRESSED\tOTHER\tARCHIVED")
	for _, k := range keys {
		r := rows[k]
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\n", k, r.failedNew, r.passedResolved, r.suppressed, r.other, r.archived)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range changed {
		fmt.Println("  " + c)
	}
	return nil
}
