// Command gendoc writes the generated parts of the documentation. `make docs` runs it; tests in
// internal/cli and test/ fail when the committed files differ from what it would write.
//
//	go run ./test/gendoc configuration > docs/configuration.md
//	go run ./test/gendoc samples [bin/sek]  # docs/samples/*.txt and the sample blocks of the docs;
//	                                        # with a sek binary, also the demo's Security Hub view
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/sek-dev/sek/internal/cli"
	"github.com/sek-dev/sek/internal/demo"
	"github.com/sek-dev/sek/pkg/awsclient"
	"github.com/sek-dev/sek/test/docsamples"
	"github.com/sek-dev/sek/test/harness"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 2 && os.Args[1] == "configuration":
		err = cli.ConfigurationMarkdown(os.Stdout)
	case (len(os.Args) == 2 || len(os.Args) == 3) && os.Args[1] == "samples":
		err = samples(context.Background(), ".")
	default:
		fmt.Fprintln(os.Stderr, "usage: gendoc configuration > docs/configuration.md | gendoc samples [sek-binary]")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

// samples seeds the demo estate in a fresh moto and renders every documented sample.
func samples(ctx context.Context, root string) error {
	moto, err := harness.LaunchMoto(ctx)
	if err != nil {
		return err
	}
	defer moto.Stop()
	if err := moto.Export(); err != nil {
		return err
	}
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load SDK config: %w", err)
	}
	cfgFor := awsclient.NewFactory(base).Config
	if err := demo.Seed(ctx, cfgFor, demo.Clusters()); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, "docs", "samples"), 0o755); err != nil {
		return err
	}
	docs := map[string][]byte{}
	for _, s := range docsamples.Samples() {
		out, err := docsamples.Render(ctx, s, moto.Env())
		if err != nil {
			return err
		}
		if !s.Block() {
			if err := os.WriteFile(filepath.Join(root, "docs", "samples", s.Name+".txt"), out, 0o644); err != nil {
				return err
			}
			continue
		}
		doc, ok := docs[s.DocFile()]
		if !ok {
			if doc, err = os.ReadFile(filepath.Join(root, s.DocFile())); err != nil {
				return err
			}
		}
		if docs[s.DocFile()], err = docsamples.ReplaceBlock(doc, s.Name, out); err != nil {
			return fmt.Errorf("%s: %w", s.DocFile(), err)
		}
	}
	if len(os.Args) > 2 {
		// gendoc samples <sek binary>: also the README's Security Hub view from the demo.
		out, err := docsamples.RenderDemo(ctx, root, os.Args[2])
		if err != nil {
			return err
		}
		doc, ok := docs["README.md"]
		if !ok {
			if doc, err = os.ReadFile(filepath.Join(root, "README.md")); err != nil {
				return err
			}
		}
		if docs["README.md"], err = docsamples.ReplaceBlock(doc, docsamples.DemoSample.Name, out); err != nil {
			return err
		}
	}
	for file, doc := range docs {
		if err := os.WriteFile(filepath.Join(root, file), doc, 0o644); err != nil {
			return err
		}
	}
	return nil
}
