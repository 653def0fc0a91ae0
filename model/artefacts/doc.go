// Package artefacts embeds prescale's default trained models, the JSON
// files `prescale train` writes into model/artefacts. It imports nothing
// from the repository, so stack.yml can copy this directory into each
// function's build context and the predictor works offline with no setup.
// Parse and validate the bytes with pkg/inference.
package artefacts
