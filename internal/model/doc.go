// Package model is dnsieve's learned behaviour score: a small,
// interpretable logistic regression over a registered domain's behaviour
// features (engine.Features), shipped embedded in the binary
// (default_model.json) and replaceable by a file (Load).
//
// It owns the feature catalogue (which engine features are inputs and how
// they are transformed), the model file format (versioned JSON with a
// fixed field order, reproducible byte for byte), scoring with per-feature
// contributions in words, the mapping of probabilities to severities, and
// the decision policy that combines the model with the tool fingerprints
// (Judge). Training lives in the sub-package train; this package imports
// only the engine, so that whatever wires the model into the engine cannot
// form an import cycle.
package model
