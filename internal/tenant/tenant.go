// Package tenant names the project environment a request acts for and
// carries it through contexts. Every stored row belongs to exactly one.
package tenant

import (
	"context"
	"strings"
)

// Environment is "test" or "live"; it is part of every id Latch mints.
type Environment string

const (
	Test Environment = "test"
	Live Environment = "live"
)

// Vertical is the product line of a project.
type Vertical string

const (
	Consumer Vertical = "consumer"
	B2B      Vertical = "b2b"
)

// Project is the authenticated caller of a request.
type Project struct {
	ID          string
	Name        string
	Environment Environment
	Vertical    Vertical
	PublicToken string
}

// IsTest reports whether sandbox behaviour and the dev outbox are allowed.
func (p Project) IsTest() bool { return p.Environment == Test }

// EnvironmentOf reads the environment from a project id.
func EnvironmentOf(projectID string) Environment {
	if strings.HasPrefix(projectID, "project-live-") {
		return Live
	}
	return Test
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Project) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the project in ctx, if any.
func From(ctx context.Context) (Project, bool) {
	p, ok := ctx.Value(ctxKey{}).(Project)
	return p, ok
}
