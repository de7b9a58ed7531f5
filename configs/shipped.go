package configs

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed *.toml
var shipped embed.FS

// ShippedNames lists the experiment files shipped in this directory and
// compiled into the program, without their .toml suffix.
func ShippedNames() []string {
	entries, _ := fs.ReadDir(shipped, ".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
	}
	sort.Strings(names)
	return names
}

// LoadShipped decodes the shipped experiment name (e.g. "substitute-mnist"),
// as Load would the file configs/NAME.toml, so that a command can use it from
// any directory.
func LoadShipped(name string, sets ...string) (*Experiment, error) {
	file := path.Clean(name) + ".toml"
	data, err := shipped.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no shipped experiment %q (have %s)", name, strings.Join(ShippedNames(), ", "))
	}
	return Parse("configs/"+file, data, sets...)
}
