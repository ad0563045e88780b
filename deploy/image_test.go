package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pinnedImage is an image reference pinned by its content digest.
var pinnedImage = regexp.MustCompile(`^[^\s@]+@sha256:[0-9a-f]{64}$`)

// unpinnedImages returns, for a Dockerfile's text, each image it pulls
// without a digest: a FROM whose image is neither pinned nor "scratch" nor
// an earlier stage of the same file, and a "# syntax=" frontend directive
// that is not pinned. Build arguments in a FROM are not expanded: a FROM
// whose image comes from an ARG is reported, since a build could pass any
// tag.
func unpinnedImages(dockerfile string) []string {
	var bad []string
	stages := map[string]bool{}
	var cont strings.Builder
	first := true
	for _, raw := range strings.Split(dockerfile, "\n") {
		line := strings.TrimSpace(raw)
		if first && strings.HasPrefix(line, "#") {
			// Parser directives are comments at the very top.
			if k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), "="); ok && strings.EqualFold(strings.TrimSpace(k), "syntax") {
				if v = strings.TrimSpace(v); !pinnedImage.MatchString(v) {
					bad = append(bad, "# syntax="+v)
				}
			}
			continue
		}
		first = false
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cont.WriteString(line)
		words := strings.Fields(cont.String())
		cont.Reset()
		if len(words) < 2 || !strings.EqualFold(words[0], "FROM") {
			continue
		}
		args := words[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "--") {
			args = args[1:]
		}
		if len(args) == 0 {
			bad = append(bad, line)
			continue
		}
		image := args[0]
		if image != "scratch" && !stages[strings.ToLower(image)] && !pinnedImage.MatchString(image) {
			bad = append(bad, "FROM "+image)
		}
		if len(args) >= 3 && strings.EqualFold(args[1], "AS") {
			stages[strings.ToLower(args[2])] = true
		}
	}
	return bad
}

func TestUnpinnedImages(t *testing.T) {
	const digest = "@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647"
	tests := []struct {
		name string
		file string
		want []string
	}{
		{name: "pinned", file: "FROM golang:1.26" + digest + " AS build\nFROM build\nFROM scratch\n"},
		{name: "platform flag", file: "FROM --platform=$BUILDPLATFORM golang:1.26" + digest + " AS build\n"},
		{name: "tag only", file: "FROM golang:1.26\n", want: []string{"FROM golang:1.26"}},
		{name: "no tag", file: "FROM alpine AS x\n", want: []string{"FROM alpine"}},
		{name: "short digest", file: "FROM alpine@sha256:abc\n", want: []string{"FROM alpine@sha256:abc"}},
		{name: "image from an ARG", file: "ARG BASE=alpine" + digest + "\nFROM ${BASE}\n", want: []string{"FROM ${BASE}"}},
		{name: "stage used before it is defined", file: "FROM build\nFROM alpine" + digest + " AS build\n", want: []string{"FROM build"}},
		{name: "continued line", file: "FROM \\\n  debian:12\n", want: []string{"FROM debian:12"}},
		{name: "syntax directive", file: "# syntax=docker/dockerfile:1\nFROM scratch\n", want: []string{"# syntax=docker/dockerfile:1"}},
		{name: "pinned syntax directive", file: "# syntax=docker/dockerfile:1" + digest + "\nFROM scratch\n"},
		{name: "a later comment is no directive", file: "FROM scratch\n# syntax=docker/dockerfile:1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unpinnedImages(tt.file)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("unpinnedImages = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDockerfilesPinBaseImages: every Dockerfile in the repository pulls
// its base images by digest.
func TestDockerfilesPinBaseImages(t *testing.T) {
	var files []string
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "dist") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (d.Name() == "Dockerfile" || strings.HasPrefix(d.Name(), "Dockerfile.") || strings.HasSuffix(d.Name(), ".Dockerfile") || d.Name() == "Containerfile") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Dockerfile found in the repository")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bad := unpinnedImages(string(b)); len(bad) > 0 {
			t.Errorf("%s pulls images without a digest (pin them as image:tag@sha256:<index digest>): %q", f, bad)
		}
	}
	t.Logf("checked %q", files)
}
