package atomicfile_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/glr-project/glr/internal/atomicfile"
)

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "atomicfile-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "results.txt")

	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, "accuracy 0.9123")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// A failed write leaves the previous content in place.
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		fmt.Fprintln(w, "half a result")
		return fmt.Errorf("evaluation interrupted")
	})
	fmt.Println("error:", err != nil)

	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(b))
	// Output:
	// error: true
	// accuracy 0.9123
}
