package configs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/glr-project/glr/estimators"
)

func TestEstimatorErrors(t *testing.T) {
	const esKeys = `(its keys: copies, sigma, antithetic, fitness)`
	const glrKeys = `(its keys: copies, baseline, antithetic, sampler, layerwise)`
	runLoadErrors(t, []loadErrorTest{
		{
			name: "unknown kind",
			src:  "name = \"x\"\n[estimator]\nkind = \"foo\"\ncopies = 3\n",
			want: `FILE:3: estimator.kind: unknown estimator "foo" (want bp | es | glr | spsa | ste)`,
		},
		{
			name: "kind of the wrong type",
			src:  "name = \"x\"\n[estimator]\nkind = 3\n",
			want: `FILE:3: estimator.kind: want string, got integer 3`,
		},
		{
			name: "unknown kind in an arm",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n[arms.estimator]\nkind = \"bpp\"\n",
			want: `FILE:5: arms[0].estimator.kind: unknown estimator "bpp" (want bp | es | glr | spsa | ste)`,
		},
		{
			name: "key of another kind",
			src:  "name = \"x\"\n[estimator]\nkind = \"es\"\nlayerwise = true\n",
			want: `FILE:4: estimator.layerwise: not a key of estimator kind "es" ` + esKeys + `; layerwise is a key of glr`,
		},
		{
			name: "key of two other kinds",
			src:  "name = \"x\"\n[estimator]\nnoise = true\n",
			want: `FILE:3: estimator.noise: not a key of estimator kind "glr" ` + glrKeys + `; noise is a key of bp and ste`,
		},
		{
			name: "key of no kind",
			src:  "name = \"x\"\n[estimator]\nkind = \"es\"\nwhatever = 1\n",
			want: `FILE:4: estimator.whatever: not a key of estimator kind "es" ` + esKeys,
		},
		{
			name: "misspelt key",
			src:  "name = \"x\"\n[estimator]\nkind = \"es\"\nsigmaa = 0.1\n",
			want: `FILE:4: estimator.sigmaa: not a key of estimator kind "es" ` + esKeys + `; did you mean "sigma"?`,
		},
		{
			name: "every unknown key, in file order",
			src:  "name = \"x\"\n[estimator]\nkind = \"spsa\"\nzeta = 1\nalpha = 2\n",
			want: "FILE:4: estimator.zeta: not a key of estimator kind \"spsa\" (its keys: copies, sigma)\n" +
				`FILE:5: estimator.alpha: not a key of estimator kind "spsa" (its keys: copies, sigma)`,
		},
		{
			name: "wrong type for a kind's key",
			src:  "name = \"x\"\n[estimator]\nkind = \"es\"\nsigma = \"big\"\n",
			want: `FILE:4: estimator.sigma: want float, got string "big"`,
		},
		{
			name: "zero sigma for es",
			src:  "name = \"x\"\n[estimator]\nkind = \"es\"\nsigma = 0\n",
			want: `FILE:4: estimator.sigma: must be > 0 and finite, got 0`,
		},
		{
			name: "layerwise with es in an arm",
			src:  "name = \"x\"\n[[arms]]\nname = \"es\"\n[arms.estimator]\nkind = \"es\"\nlayerwise = true\n",
			want: `FILE:6: arms[0].estimator.layerwise: not a key of estimator kind "es" ` + esKeys + `; layerwise is a key of glr`,
		},
		{
			name: "an arm inherits the experiment's kind",
			src:  "name = \"x\"\n[estimator]\nkind = \"es\"\n[[arms]]\nname = \"a\"\n[arms.estimator]\nbaseline = \"clean\"\n",
			want: `FILE:7: arms[0].estimator.baseline: not a key of estimator kind "es" ` + esKeys + `; baseline is a key of glr`,
		},
		{
			name: "an arm of another kind starts from its defaults",
			// The experiment's copies = 3 is the glr table's; the es arm
			// gets es's default 10, so only the arm's own odd copies count.
			src:  "name = \"x\"\n[estimator]\ncopies = 3\n[[arms]]\nname = \"a\"\n[arms.estimator]\nkind = \"es\"\ncopies = 7\n",
			want: `FILE:8: arms[0].estimator.copies: antithetic pairs need an even number of copies, got 7`,
		},
		{
			name: "a default of an arm's kind is blamed on the arm's kind",
			src:  "name = \"x\"\n[data]\nbatch_size = 1\n[[arms]]\nname = \"a\"\n[arms.estimator]\nkind = \"es\"\ncopies = 1\nantithetic = false\n",
			want: `FILE:8: arms[0].estimator.copies: must be in [2, 65536], got 1`,
		},
		{
			name: "bp with zero-one loss",
			src:  "name = \"x\"\n[estimator]\nkind = \"bp\"\n[loss]\nkind = \"zero-one\"\n",
			want: `FILE:5: loss.kind: bp (backpropagation) cannot differentiate the zero-one loss; use a likelihood-ratio or weight-space estimator such as glr`,
		},
		{
			name: "ste with zero-one loss in an arm",
			src:  "name = \"x\"\n[loss]\nkind = \"zero-one\"\n[[arms]]\nname = \"ste\"\n[arms.estimator]\nkind = \"ste\"\n",
			want: `FILE:7: arms[0].estimator.kind: ste (backpropagation) cannot differentiate the zero-one loss; use a likelihood-ratio or weight-space estimator such as glr`,
		},
		{
			name: "a leave-one-out baseline needs two rows",
			src:  "name = \"x\"\n[estimator]\nbaseline = \"leave-one-out\"\n[data]\nbatch_size = 1\n",
			want: `FILE:3: estimator.baseline: a leave-one-out baseline needs at least 2 rows per pass`,
		},
		{
			name: "a billion copies",
			src:  "name = \"x\"\n[estimator]\ncopies = 1000000000\n",
			want: "FILE:3: estimator.copies: must be in [1, 65536], got 1000000000\n" +
				"FILE:3: estimator.copies: a pass of 32 examples × 1000000000 copies × 785 values at the widest layer exceeds the limit of 2147483648 values per tensor; lower copies or data.batch_size",
		},
		{
			name: "copies that do not fit the widest layer",
			src:  "name = \"x\"\n[model]\nhidden = [65536]\n[estimator]\ncopies = 1024\n[data]\nbatch_size = 64\n",
			want: "FILE:5: estimator.copies: a pass of 64 examples × 1024 copies × 65536 values at the widest layer exceeds the limit of 2147483648 values per tensor; lower copies or data.batch_size",
		},
		{
			name: "-set of the kind re-decodes the file's keys",
			src:  "name = \"x\"\n[estimator]\nbaseline = \"clean\"\ncopies = 4\n",
			sets: []string{"estimator.kind=es"},
			want: `FILE:3: estimator.baseline: not a key of estimator kind "es" ` + esKeys + `; baseline is a key of glr`,
		},
		{
			name: "-set of the kind re-decodes the keys of arms that inherit it",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n[arms.estimator]\nsampler = \"qmc\"\ncopies = 2\n[[arms]]\nname = \"b\"\n[arms.estimator]\nkind = \"glr\"\nsampler = \"qmc\"\ncopies = 2\n",
			sets: []string{"estimator.kind=spsa"},
			want: `FILE:5: arms[0].estimator.sampler: not a key of estimator kind "spsa" (its keys: copies, sigma); sampler is a key of glr`,
		},
		{
			name: "-set of a key the kind in force lacks",
			src:  "name = \"x\"\n[estimator]\nkind = \"es\"\n",
			sets: []string{"estimator.layerwise=true"},
			want: `-set estimator.layerwise: not a key of estimator kind "es" ` + esKeys + `; layerwise is a key of glr`,
		},
		{
			name: "-set of a key of the kind set after it",
			src:  "name = \"x\"\n",
			sets: []string{"estimator.sigma=0", "estimator.kind=spsa"},
			want: `-set estimator.sigma: must be > 0 and finite, got 0`,
		},
		{
			name: "-set of a kind's key of the wrong type",
			src:  "name = \"x\"\n[estimator]\nkind = \"es\"\n",
			sets: []string{"estimator.sigma=abc"},
			want: `-set estimator.sigma: want float, got "abc"`,
		},
		{
			name: "-set of an unknown kind",
			src:  "name = \"x\"\n[estimator]\ncopies = 2\n",
			sets: []string{"estimator.kind=foo"},
			want: `-set estimator.kind: unknown estimator "foo" (want bp | es | glr | spsa | ste)`,
		},
		{
			name: "-set of an arm's unknown kind",
			src:  "name = \"x\"\n[[arms]]\nname = \"a\"\n",
			sets: []string{"arms[0].estimator.kind=foo"},
			want: `-set arms[0].estimator.kind: unknown estimator "foo" (want bp | es | glr | spsa | ste)`,
		},
		{
			name: "-set below an estimator key",
			src:  "name = \"x\"\n",
			sets: []string{"estimator.copies.x=1"},
			want: `-set estimator.copies.x: estimator.copies is not a table`,
		},
		{
			name: "-set of an element of an estimator key",
			src:  "name = \"x\"\n",
			sets: []string{"estimator.copies[0]=1"},
			want: `-set estimator.copies[0]: cannot index estimator.copies; set the whole value`,
		},
	})
}

// TestSetKind checks that -set estimator.kind decodes the file's keys for
// the new kind, from its defaults.
func TestSetKind(t *testing.T) {
	const src = "name = \"x\"\n[estimator]\ncopies = 4\n[[arms]]\nname = \"a\"\n[[arms]]\nname = \"b\"\n[arms.estimator]\nkind = \"glr\"\n"
	e, err := Parse("k.toml", []byte(src), "estimator.kind=spsa", "estimator.sigma=0.5")
	if err != nil {
		t.Fatal(err)
	}
	want := Estimator{"spsa", &estimators.SPSASettings{Copies: 4, Sigma: 0.5}}
	if !reflect.DeepEqual(e.Estimator, want) {
		t.Errorf("estimator = %+v, want %+v", e.Estimator, want)
	}
	arms := e.Resolved()
	if !reflect.DeepEqual(arms[0].Estimator, want) {
		t.Errorf("arm a = %+v, want the experiment's %+v", arms[0].Estimator, want)
	}
	if b := arms[1].Estimator; b.Kind != "glr" || !reflect.DeepEqual(b.Settings, kindDefaults("glr")) {
		t.Errorf("arm b = %+v %+v, want glr at its defaults", b.Kind, b.Settings)
	}
}

// TestRoundTripKinds encodes an experiment of every registered kind, at its
// defaults and at each variant the kind registers, with arms that change
// kind, and reads it back.
func TestRoundTripKinds(t *testing.T) {
	for _, k := range estimators.Kinds() {
		variants := append([]estimators.Variant{{Name: "defaults"}}, k.Variants...)
		for _, v := range variants {
			t.Run(k.Name+"/"+v.Name, func(t *testing.T) {
				var other string
				for _, o := range estimators.Names() {
					if o != k.Name {
						other = o
						break
					}
				}
				src := "name = \"rt\"\n[estimator]\nkind = \"" + k.Name + "\"\n" + v.TOML + "\n" +
					"[[arms]]\nname = \"same\"\n" +
					"[[arms]]\nname = \"other\"\n[arms.estimator]\nkind = \"" + other + "\"\n" +
					"[[arms]]\nname = \"back\"\n[arms.estimator]\nkind = \"" + k.Name + "\"\n" + v.TOML + "\n"
				e, again, enc := roundTrip(t, src)
				if reflect.TypeOf(e.Estimator.Settings) != reflect.TypeOf(k.NewSettings()) {
					t.Fatalf("settings %T, want %T", e.Estimator.Settings, k.NewSettings())
				}
				if !reflect.DeepEqual(e.Resolved(), again.Resolved()) {
					t.Error("round trip changed the resolved arms")
				}
				// The [estimator] table holds kind, then every key of the
				// kind in declaration order.
				_, table, _ := strings.Cut(enc, "[estimator]\n")
				table, _, _ = strings.Cut(table, "\n\n")
				var keys []string
				for _, line := range strings.Split(table, "\n") {
					key, _, _ := strings.Cut(line, " = ")
					keys = append(keys, key)
				}
				if want := append([]string{"kind"}, estimators.SettingsKeys(k.NewSettings())...); !reflect.DeepEqual(keys, want) {
					t.Errorf("[estimator] keys %v, want %v", keys, want)
				}
			})
		}
	}
}

func TestValidateEstimator(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *Experiment)
		want string
	}{
		{"unknown kind", func(e *Experiment) { e.Estimator.Kind = "foo" },
			`estimator.kind: unknown estimator "foo" (want bp | es | glr | spsa | ste)`},
		{"no settings", func(e *Experiment) { e.Estimator.Settings = nil },
			`estimator: no settings for estimator kind "glr"`},
		{"settings of another kind", func(e *Experiment) { e.Estimator.Kind = "es" },
			`estimator: settings are *estimators.GLRSettings, want *estimators.ESSettings for estimator kind "es"`},
		{"an arm's key the kind lacks", func(e *Experiment) {
			e.Arms = []Arm{{Name: "a", Estimator: EstimatorOverride{Settings: map[string]any{"sigma": 0.1}}}}
		}, `arms[0].estimator.sigma: not a key of estimator kind "glr" (its keys: copies, baseline, antithetic, sampler, layerwise); sigma is a key of es and spsa`},
		{"an arm's value of the wrong type", func(e *Experiment) {
			e.Arms = []Arm{{Name: "a", Estimator: EstimatorOverride{Settings: map[string]any{"copies": 2.0}}}}
		}, `arms[0].estimator.copies: value 2 is a float64, want int`},
		{"an arm's bad value", func(e *Experiment) {
			e.Arms = []Arm{{Name: "a", Estimator: EstimatorOverride{Settings: map[string]any{"copies": 0}}}}
		}, `arms[0].estimator.copies: must be in [1, 65536], got 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Default()
			e.Name = "v"
			tt.edit(&e)
			if err := e.Validate(); err == nil || err.Error() != tt.want {
				t.Errorf("Validate = %v, want %s", err, tt.want)
			}
		})
	}
}
