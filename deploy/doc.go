// Package deploy holds the tests of Sluice's deployment artefacts at the
// repository root: template.yaml (AWS SAM) is validated against SAM's JSON
// schema and checked for the resources and least-privilege policies the
// deployment needs, and the binaries are built the way the Dockerfile and
// the Makefile's Lambda targets build them, then checked to be static
// executables for linux/arm64 and linux/amd64. The package has no code of
// its own; run it with go test ./deploy/.
package deploy
