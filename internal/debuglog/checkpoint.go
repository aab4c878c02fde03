package debuglog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// shipPos is how far a file was shipped: the store holds its lines up to
// the one that begins at LastStart (of generation Gen), and the next line
// begins at Offset. Last is the first bytes of that last line (newline
// included, at most fingerprintLen): when the file no longer has them
// there, it was truncated or replaced and is shipped again from its
// start as generation Gen+1.
type shipPos struct {
	Gen       uint32 `json:"gen"`
	Offset    int64  `json:"offset"`
	Line      int    `json:"line"`
	LastStart int64  `json:"last_start"`
	Last      []byte `json:"last"` // base64 in the file
	Path      string `json:"path,omitempty"`
}

// after says whether p is further on than q.
func (p shipPos) after(q shipPos) bool {
	return p.Gen > q.Gen || (p.Gen == q.Gen && p.Offset > q.Offset)
}

// checkpoint is ship's checkpoint file: per file identity, how far it was
// shipped, as the server acknowledged it. It is written whole (to a
// temporary file, synced, renamed over the old one) after each batch the
// server acknowledged, so a crash leaves the old one or the new one.
type checkpoint struct {
	Version int               `json:"version"`
	Host    string            `json:"host"`
	Table   string            `json:"table"`
	Files   []checkpointEntry `json:"files"`
}

type checkpointEntry struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
	shipPos
}

// checkpointVersion is the version of the checkpoint's format.
const checkpointVersion = 1

// maxCheckpoint bounds the checkpoint file read (a million files' worth).
const maxCheckpoint = 256 << 20

// parseCheckpoint reads a checkpoint file's contents, checking that they
// make sense (a damaged file is refused, never half used).
func parseCheckpoint(b []byte) (*checkpoint, error) {
	var c checkpoint
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("not a checkpoint (%v)", err)
	}
	if dec.More() {
		return nil, errors.New("not a checkpoint (more after its JSON object)")
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint version %d; this debuglog reads version %d", c.Version, checkpointVersion)
	}
	seen := map[fileID]bool{}
	for i, e := range c.Files {
		switch {
		case e.Offset < 0 || e.LastStart < 0 || e.Line < 0:
			return nil, fmt.Errorf("file %d: a negative offset or line", i+1)
		case e.LastStart > e.Offset:
			return nil, fmt.Errorf("file %d: its last line begins after its offset", i+1)
		case len(e.Last) > fingerprintLen:
			return nil, fmt.Errorf("file %d: its last line's bytes are more than %d", i+1, fingerprintLen)
		case seen[fileID{e.Dev, e.Ino}]:
			return nil, fmt.Errorf("file %d: its identity (%d, %d) is listed twice", i+1, e.Dev, e.Ino)
		}
		seen[fileID{e.Dev, e.Ino}] = true
	}
	return &c, nil
}

// loadCheckpoint reads the checkpoint at path (nil, nil when there is none).
func loadCheckpoint(path string) (*checkpoint, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %v", escapeText(path), unwrapPath(err))
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxCheckpoint+1))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %v", escapeText(path), unwrapPath(err))
	}
	if len(b) > maxCheckpoint {
		return nil, fmt.Errorf("checkpoint %s: larger than %d bytes; not a checkpoint of debuglog ship", escapeText(path), maxCheckpoint)
	}
	c, err := parseCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %v; remove it to ship again from what the store holds (nothing is shipped twice)", escapeText(path), err)
	}
	return c, nil
}

// entries returns the positions of the checkpoint, by file identity.
func (c *checkpoint) entries() map[fileID]shipPos {
	m := map[fileID]shipPos{}
	for _, e := range c.Files {
		m[fileID{e.Dev, e.Ino}] = e.shipPos
	}
	return m
}

// removeCheckpointTemps removes the temporary files writeCheckpoint left
// beside path when the shipper was killed while writing it.
func removeCheckpointTemps(path string) {
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globEscape(filepath.Base(path))+".*.tmp"))
	for _, f := range left {
		os.Remove(f)
	}
}

// globEscape escapes the characters filepath.Match gives a meaning to.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// writeCheckpoint writes a checkpoint atomically: a temporary file in the
// same directory, synced, renamed over path.
func writeCheckpoint(path string, c *checkpoint) error {
	sort.Slice(c.Files, func(i, j int) bool {
		a, b := c.Files[i], c.Files[j]
		return a.Dev < b.Dev || (a.Dev == b.Dev && a.Ino < b.Ino)
	})
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
