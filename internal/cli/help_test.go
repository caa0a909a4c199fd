package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sek-dev/sek/pkg/config"
)

// sekCommands returns sek's own commands (not cobra's generated help and completion).
func sekCommands(t *testing.T) []*cobra.Command {
	t.Helper()
	root := newRoot(IO{})
	var out []*cobra.Command
	for _, c := range root.Commands() {
		if c.Name() != "help" && c.Name() != "completion" {
			out = append(out, c)
		}
	}
	if len(out) < 4 {
		t.Fatalf("found only %d commands", len(out))
	}
	return out
}

// TestEveryFlagNamesItsDefault reads the real --help output of each command: each flag's line
// must name its default, so a user never has to guess.
func TestEveryFlagNamesItsDefault(t *testing.T) {
	for _, cmd := range sekCommands(t) {
		code, out, stderr := runCLI(t, cmd.Name(), "--help")
		if code != ExitOK {
			t.Fatalf("sek %s --help: exit %d: %s", cmd.Name(), code, stderr)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			line := helpLine(out, f.Name)
			if line == "" {
				t.Errorf("sek %s --help does not list --%s", cmd.Name(), f.Name)
				return
			}
			if !strings.Contains(line, "default") {
				t.Errorf("sek %s --help: --%s does not name its default: %q", cmd.Name(), f.Name, line)
			}
		})
	}
}

// helpLine returns the line of the Flags section that defines --flag.
func helpLine(help, flag string) string {
	re := regexp.MustCompile(`^\s+(-[a-z], )?--` + regexp.QuoteMeta(flag) + `( |$)`)
	for _, l := range strings.Split(help, "\n") {
		if re.MatchString(l) {
			return l
		}
	}
	return ""
}

// TestScanFlagsNameTheirEnvVariables ties --help to config.Keys(): every config key with a flag
// has that flag, and the flag's help names the key's environment variable. Flags with no config
// key must say they are flag only.
func TestScanFlagsNameTheirEnvVariables(t *testing.T) {
	code, help, _ := runCLI(t, "scan", "--help")
	if code != ExitOK {
		t.Fatal("scan --help failed")
	}
	byFlag := map[string]config.Key{}
	for _, k := range config.Keys() {
		if k.Flag != "" {
			byFlag[strings.TrimPrefix(k.Flag, "--")] = k
		}
	}
	scan := newScanCmd(IO{})
	seen := map[string]bool{}
	scan.Flags().VisitAll(func(f *pflag.Flag) {
		line := helpLine(help, f.Name)
		k, ok := byFlag[f.Name]
		switch {
		case ok:
			seen[f.Name] = true
			if k.Env != "" && !strings.Contains(line, "env "+k.Env) {
				t.Errorf("--%s help does not name env %s: %q", f.Name, k.Env, line)
			}
			if key := flagKeys()[f.Name]; key != k.Name {
				t.Errorf("--%s sets config key %q, but config.Keys() documents it as %q", f.Name, key, k.Name)
			}
		case f.Name == "help":
		default:
			if !strings.Contains(line, "flag only") {
				t.Errorf("--%s has no config key and its help does not say it is flag only: %q", f.Name, line)
			}
		}
	})
	for name := range byFlag {
		if !seen[name] {
			t.Errorf("config.Keys() documents flag --%s, but sek scan has no such flag", name)
		}
	}
}

// TestCompletionScripts checks that every shell's completion script is generated and is the
// real script for sek, and that the completion back end completes sek's own commands and flags.
func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_sek",
		"zsh":        "#compdef sek",
		"fish":       "complete -c sek",
		"powershell": "Register-ArgumentCompleter",
	} {
		code, out, stderr := runCLI(t, "completion", shell)
		if code != ExitOK || !strings.Contains(out, marker) {
			t.Errorf("sek completion %s: exit %d, stderr %q, output lacks %q", shell, code, stderr, marker)
		}
	}
	code, out, _ := runCLI(t, "__complete", "")
	for _, want := range []string{"scan", "checks", "version", "iam-policy", "completion"} {
		if code != ExitOK || !strings.Contains(out, want+"\t") {
			t.Errorf("completing `sek ` does not offer %s:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "__complete", "scan", "--fail")
	if code != ExitOK || !strings.Contains(out, "--fail-on") {
		t.Errorf("completing `sek scan --fail` does not offer --fail-on:\n%s", out)
	}
	if code, _, stderr := runCLI(t, "completion", "tcsh"); code != ExitUsage {
		t.Errorf("sek completion tcsh: exit %d (%s), want 2", code, stderr)
	}
}
