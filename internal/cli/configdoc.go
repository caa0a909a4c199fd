package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sek-dev/sek/pkg/config"
)

// ExampleConfig is the sample sek.yaml shown in docs/configuration.md. A test loads it with the
// real loader, so the example is always valid.
const ExampleConfig = `regions: [eu-west-1, us-east-1]
skip: [EKS_CONTROL_PLANE_LOGGING_ALL]
fail_on: high
concurrency:
  regions: 4
  clusters: 8
params:
  EKS_VERSION_SUPPORTED:
    warnDays: 60
  EKS_ENDPOINT_PUBLIC_OPEN:
    allowedCidrs: [203.0.113.0/24]
mutes:
  - cluster: "dev-*"
    check: EKS_ENDPOINT_PUBLIC_ENABLED
    reason: dev clusters are reached over the internet by design
    expires: 2027-03-31
`

// ConfigurationMarkdown writes docs/configuration.md from config.Keys(), the check catalog's
// parameters and the flags of every command, so the reference cannot drift from the code.
func ConfigurationMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("<!-- Generated from the code (config.Keys(), the check catalog and the CLI flags). Do not edit; run `make docs`. -->\n\n")
	b.WriteString("`sek scan` and the auditor Lambda read the same settings, through the same loader (`pkg/config`).\n")
	b.WriteString("Each setting can come from three places; a later one wins:\n\n")
	fmt.Fprintf(&b, "1. the YAML file: `--config FILE`, or `%s` in the working directory if it exists;\n", config.DefaultFile)
	fmt.Fprintf(&b, "2. `%s*` environment variables (lists are comma-separated; a nested key uses `__`, as in `SEK_CONCURRENCY__REGIONS`);\n", config.EnvPrefix)
	b.WriteString("3. command-line flags that you set explicitly.\n\n")
	b.WriteString("An unknown key, an unknown check id or a bad value stops sek with exit code 2 and a message that names the key.\n")
	b.WriteString("The Lambda has no flags and no file: its stack sets the environment variables.\n\n")

	b.WriteString("## Settings\n\n")
	b.WriteString("| Key (YAML) | Environment variable | Flag | Default | Meaning |\n|---|---|---|---|---|\n")
	for _, k := range config.Keys() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Name, codeOrDash(k.Env), codeOrDash(k.Flag), mdCell(k.Default), mdCell(k.Description))
	}

	b.WriteString("\n## Per-check parameters\n\n")
	b.WriteString("Set in the YAML file only, under `params.<CHECK_ID>.<name>`. A parameter the check does not declare is an error that lists the valid ones.\n\n")
	b.WriteString("| Check | Parameter | Default | Meaning |\n|---|---|---|---|\n")
	for _, c := range checksOf() {
		for _, p := range c.Parameters {
			def, err := json.Marshal(p.Default)
			if err != nil {
				return fmt.Errorf("parameter %s.%s: %w", c.ID, p.Name, err)
			}
			fmt.Fprintf(&b, "| [`%s`](checks.md#%s) | `%s` | `%s` | %s |\n", c.ID, strings.ToLower(c.ID), p.Name, def, mdCell(p.Description))
		}
	}

	b.WriteString("\n## Mutes\n\n")
	b.WriteString("A mute accepts a known result for a while. A muted result still appears in every output, marked muted\n")
	b.WriteString("(`muted: true` and `muteReason` in JSON), and never fails the exit code. Each entry has:\n\n")
	b.WriteString("- `cluster`: a glob on the cluster name (`dev-*`); empty means every cluster;\n")
	b.WriteString("- `check`: a check id, or a glob such as `EKS_NODE_*`;\n")
	b.WriteString("- `reason`: required, shown next to the muted result;\n")
	b.WriteString("- `expires`: optional date (`YYYY-MM-DD`, UTC); from that day on the mute no longer applies.\n\n")

	b.WriteString("## Example `sek.yaml`\n\n")
	b.WriteString("```yaml\n" + ExampleConfig + "```\n\n")

	b.WriteString("## AWS settings\n\n")
	b.WriteString("Credentials and endpoints come from the AWS SDK's standard chain, so these work as they do for the AWS CLI:\n")
	b.WriteString("`AWS_PROFILE`, `AWS_REGION` (the default region to scan), `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /\n")
	b.WriteString("`AWS_SESSION_TOKEN`, web-identity (OIDC) variables, and `AWS_ENDPOINT_URL` (used by `make demo` to point at moto).\n\n")

	b.WriteString("## Flags of every command\n\n")
	for _, cmd := range newRoot(IO{}).Commands() {
		if cmd.Name() == "help" || cmd.Name() == "completion" {
			continue
		}
		fmt.Fprintf(&b, "### `sek %s`\n\n%s.\n\n", cmd.Name(), cmd.Short)
		b.WriteString("| Flag | Default | Description |\n|---|---|---|\n")
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			desc, def := flagHelp(f)
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", flagName(f), def, mdCell(desc))
		})
		b.WriteString("\n")
	}
	b.WriteString("`sek completion bash|zsh|fish|powershell` prints a shell completion script; see `sek completion --help`.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func flagName(f *pflag.Flag) string {
	name := "--" + f.Name
	if f.Shorthand != "" {
		name = "-" + f.Shorthand + ", " + name
	}
	if varname, _ := pflag.UnquoteUsage(f); varname != "" {
		name += " " + varname
	}
	return name
}

// defaultInUsage finds a default written into the usage text, for flags whose zero value means
// something (an unset --region is "the configured AWS region").
var defaultInUsage = regexp.MustCompile(`\s*\(default:? ([^)]+)\)`)

// flagHelp splits a flag's usage into its description and its default, as --help shows them.
func flagHelp(f *pflag.Flag) (desc, def string) {
	_, usage := pflag.UnquoteUsage(f)
	desc = usage
	if m := defaultInUsage.FindStringSubmatchIndex(usage); m != nil {
		def = strings.TrimSpace(usage[m[2]:m[3]])
		desc = usage[:m[0]] + usage[m[1]:]
	}
	switch f.DefValue {
	case "", "[]", "false":
		if def == "" {
			def = f.DefValue
		}
	default:
		def = f.DefValue
	}
	if def == "" || def == "[]" {
		return strings.TrimSpace(desc), "–"
	}
	return strings.TrimSpace(desc), "`" + def + "`"
}

func codeOrDash(s string) string {
	if s == "" {
		return "– (file only)"
	}
	return "`" + s + "`"
}

func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}
