package configs_test

import (
	"fmt"

	"github.com/glr-project/glr/configs"
)

func ExampleParseRobustness() {
	src := []byte(`models = ["runs/mnist-bp"]
sets = ["clean", "square", "worst"]
eps = [0.1, 0.3]

[attack]
queries = 500
`)
	// A flag given on the command line replaces the file's value.
	r, err := configs.ParseRobustness("robust.toml", src, configs.Override{Key: "n", Flag: "-n", Value: 200})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Sets, r.Eps, r.N, r.Attack.Queries, r.Attack.HSJQueries)

	// Problems name the file's line, or the flag.
	_, err = configs.ParseRobustness("robust.toml", src, configs.Override{Key: "n", Flag: "-n", Value: -1})
	fmt.Println(err)
	_, err = configs.ParseRobustness("robust.toml", []byte("models = [\"a\"]\n[attack]\nquerys = 5\n"))
	fmt.Println(err)
	// Output:
	// [clean square worst] [0.1 0.3] 200 500 5000
	// -n: must be >= 0 (0 for every test image), got -1
	// robust.toml:3: attack.querys: unknown key (did you mean "queries"?)
}
