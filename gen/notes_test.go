package gen_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGoldenNotes: the notes the CLI prints for a case (what is not
// mirrored, which names the collision rule gave) are part of its expected
// output, in notes.golden beside the object; a case without notes has no
// such file.
func TestGoldenNotes(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			model, err := loadModel(t, c)
			if err != nil {
				return // an error case: TestGolden checks the error
			}
			path := filepath.Join(c.dir, "notes.golden")
			got := ""
			for _, n := range model.Notes {
				got += n + "\n"
			}
			if *update {
				if got == "" {
					os.Remove(path)
					return
				}
				writeGolden(t, path, []byte(got))
				return
			}
			want, err := os.ReadFile(path)
			if err != nil && got != "" {
				t.Fatalf("notes but no %s; rerun with -update:\n%s", path, got)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs (-want +got), rerun with -update if intended:\n%s", path, diff)
			}
		})
	}
}
