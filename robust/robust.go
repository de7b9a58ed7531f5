// Package robust evaluates trained models under adversarial attacks and
// natural corruptions of a test set, and records the evaluation so that it
// can be read and run again.
//
// An evaluation runs sets: the clean test set, ε-bounded L∞ attacks
// (gradient attacks with the exact, the BPDA or the zeroth-order input
// gradient, the score-based Square Attack, the decision-based HopSkipJump,
// FGSM crafted on a substitute model), the unbounded L-BFGS attack of the
// reference code (GLR_ADV) crafted on the substitute, the worst case of the
// ε-bounded attacks per image, and the corruptions of package corrupt. Its
// settings are a [configs.Robustness]; [Evaluate] runs them on loaded
// models, and [Run] does everything glr robust does: it checks the
// settings and the output directory, loads the models, trains or loads the
// substitute, evaluates and writes robust.json, robust.md, robust.csv and
// the figures. docs/robustness.md describes every set and file.
//
// Every attacked image lies in [0, 1] and within its budget ε of the clean
// image in the L∞ norm; Evaluate checks it before it counts the image.
// Every random choice (corruptions, random starts, zeroth-order and
// Square/HopSkipJump draws, the noise of a model that predicts with noise)
// comes from a stream keyed by the settings' seed, the set, the budget and
// its role, so a set's numbers do not depend on which other sets or models
// are evaluated with it.
package robust

import (
	"fmt"
	"io"
	"slices"

	"github.com/glr-project/glr/configs"
	"github.com/glr-project/glr/datasets"
	"github.com/glr-project/glr/models"
)

// Set names. Every corruption name of package corrupt is a set too.
const (
	SetClean         = "clean"
	SetFGSMTransfer  = "fgsm-transfer"  // FGSM crafted on the substitute (black box)
	SetLBFGSTransfer = "lbfgs-transfer" // the reference code's L-BFGS attack crafted on the substitute, unbounded
	SetFGSM          = "fgsm"           // white-box FGSM with the backpropagated input gradient
	SetPGD           = "pgd"            // white-box PGD, same gradient
	SetBPDAPGD       = "bpda-pgd"       // PGD through a surrogate backward pass of each threshold (BPDA)
	SetZOFGSM        = "zo-fgsm"        // FGSM with the likelihood-ratio (zeroth-order) input gradient
	SetZOPGD         = "zo-pgd"         // PGD, same gradient
	SetSquare        = "square"         // the score-based Square Attack
	SetHopSkipJump   = "hopskipjump"    // the decision-based HopSkipJumpAttack
	SetWorst         = "worst"          // the worst case per image of the ε-bounded attacks
)

// GLRAdvProtocolSets are the sets of the reference code's robustness table:
// clean, the two transfer attacks and its four corruptions, the default
// sets of an evaluation.
var GLRAdvProtocolSets = configs.GLRAdvSets()

// AllSets lists every set name: the attacks, then the corruptions.
func AllSets() []string { return configs.RobustSets() }

// WorstEnsemble returns the attacks the worst set runs when the sets name
// no other ε-bounded attack: Square, HopSkipJump, BPDA-PGD (which is PGD on
// a model without threshold activations), zeroth-order PGD and, when there
// is a substitute model, FGSM crafted on it.
func WorstEnsemble(substitute bool) []string {
	sets := []string{SetSquare, SetHopSkipJump, SetBPDAPGD, SetZOPGD}
	if substitute {
		sets = append(sets, SetFGSMTransfer)
	}
	return sets
}

// budgeted reports whether set is an ε-bounded attack, one that the worst
// case combines.
func budgeted(set string) bool {
	switch set {
	case SetFGSMTransfer, SetFGSM, SetPGD, SetBPDAPGD, SetZOFGSM, SetZOPGD, SetSquare, SetHopSkipJump:
		return true
	}
	return false
}

// Options configures Evaluate.
type Options struct {
	// Settings are the sets, budgets, severities, number of images, seed
	// and attack settings. Their Models, Out and Substitute are the
	// caller's to resolve: Evaluate ignores them, and Protocol, which
	// Evaluate needs only through the sets it fixes.
	Settings configs.Robustness
	// Substitute is the model the transfer attacks are crafted on; it is
	// required when the sets hold one.
	Substitute *models.Trained
	// Log receives progress lines (nil: discard).
	Log io.Writer

	// onImages, if set, sees every batch of attacked images before it is
	// counted (tests).
	onImages func(model, set string, eps float64, clean, adv []float64)
}

// Row is one result: a model's accuracy on one set at one parameter (ε for
// the ε-bounded attacks and the worst case, severity for corruptions, 0 for
// the clean set and the unbounded L-BFGS attack).
type Row struct {
	Model    string  `json:"model"`
	Set      string  `json:"set"`
	Param    float64 `json:"param"`
	Accuracy float64 `json:"accuracy"`
	// Draws is the number of predictions of each image the accuracy
	// averages: attack.eot for a model that predicts with noise, else 1.
	Draws int `json:"draws"`
}

// Skip records a set not run on a model, and why.
type Skip struct {
	Model  string `json:"model"`
	Set    string `json:"set"`
	Reason string `json:"reason"`
}

// Result is the outcome of Evaluate.
type Result struct {
	Rows    []Row  `json:"rows"`
	Skipped []Skip `json:"skipped"`
	// Sets are the sets run, in order: clean first, then the settings'
	// sets with the worst case's ensemble added before it if needed.
	Sets []string `json:"sets"`
	// Images is the number of test images evaluated.
	Images int `json:"images"`
}

// Evaluate evaluates every model on every set of opts over the first
// opts.Settings.N images of the test set (all if N is 0) and returns one
// row per model, set and parameter. The clean set is always evaluated,
// first: it is the reference of the worst case and of the figures.
//
// A model whose config sets noise.at_eval predicts with noise: each of its
// accuracies is the mean over attack.eot predictions of each image, and
// each gradient attack on it (FGSM, PGD, BPDA-PGD and their zeroth-order
// forms) follows the mean of attack.eot input gradients (Expectation over
// Transformation). A noise-free model is evaluated and attacked once per
// step, whatever attack.eot says.
//
// The white-box fgsm and pgd sets are skipped on a model with threshold
// activations, whose backpropagated input gradient is zero; bpda-pgd,
// the zeroth-order sets, square and hopskipjump attack it. Square runs on
// such a model with both the paper's acceptance rule and AcceptEqual, and
// counts per image the better of the two. The worst set combines, per
// image, the clean prediction and every ε-bounded attack run on the model
// at the same ε: an image counts only if it survives all of them. When the
// sets hold no other ε-bounded attack, worst runs [WorstEnsemble] first.
//
// Evaluate returns an error before evaluating anything if the settings
// are invalid, a transfer set has no substitute, or a model does not fit
// the test set.
func Evaluate(trained []*models.Trained, test *datasets.Set, opts Options) (*Result, error) {
	e, err := newEvaluation(trained, test, opts)
	if err != nil {
		return nil, err
	}
	return e.run()
}

// plan returns the sets to run: clean, then sets, with the worst case's
// ensemble added before worst when sets hold no other ε-bounded attack.
func plan(sets []string, substitute bool) []string {
	out := []string{SetClean}
	others := slices.ContainsFunc(sets, budgeted)
	for _, s := range sets {
		if s == SetWorst && !others {
			for _, a := range WorstEnsemble(substitute) {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func names(trained []*models.Trained) []string {
	out := make([]string, len(trained))
	for i, t := range trained {
		out[i] = t.Name
	}
	return out
}

// checkSettings validates the settings Evaluate uses.
func checkSettings(opts Options, trained []*models.Trained) error {
	s := opts.Settings
	s.Models = names(trained)
	s.Protocol = ""
	s.Substitute = configs.Substitute{}
	if opts.Substitute != nil {
		s.Substitute.Run = opts.Substitute.Run
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("robust: settings: %w", err)
	}
	return nil
}
