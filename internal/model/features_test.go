package model

import (
	"testing"

	"github.com/dnsieve/dnsieve/internal/engine"
)

// TestRuleFeaturesKnown checks that every feature the engine's rules
// restate is a model feature, so that an explanation's Explained names
// can leave those rules out.
func TestRuleFeaturesKnown(t *testing.T) {
	for _, name := range engine.RuleFeatures() {
		if _, ok := lookup(name); !ok {
			t.Errorf("engine rule feature %q is not a model feature", name)
		}
	}
}
