package handler

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/proxydebug/debugmode/internal/jsonenc"
)

const (
	maxCategoryLen   = 64         // the longest category name, in bytes; longer names are cut
	overflowCategory = "overflow" // the file of categories beyond Options.MaxCategories (their lines keep their name)
	rawCacheSize     = 4096       // bounds the cache from raw category values to categories
)

// SanitizeCategory maps any string to its file-name component: lower-case
// ASCII letters, digits, '_' and '-', runs of others as one '_', at most
// 64 bytes, never empty nor starting with a digit. It holds no separator
// or dot, so no category names a file outside the directory.
func SanitizeCategory(s string) string {
	if isCleanCategory(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s)+1, maxCategoryLen))
	run := false // in a run of other bytes
	for i := 0; i < len(s) && b.Len() < maxCategoryLen; i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case !isNameByte(c):
			if !run {
				b.WriteByte('_')
			}
			run = true
			continue
		case b.Len() == 0 && c >= '0' && c <= '9':
			b.WriteByte('_')
		}
		run = false
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		return "uncategorized"
	}
	return b.String()
}

// isCleanCategory reports whether SanitizeCategory leaves s as it is.
func isCleanCategory(s string) bool {
	if s == "" || len(s) > maxCategoryLen || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// category is one category's file and counters, grouped by writer on
// their own cache lines.
type category struct {
	name  string    // read-only after creation, as the next two
	field []byte    // `,"category":"<name>"`, preformatted
	dest  *category // where its lines go: itself, or the overflow category

	_        [cacheLinePad]byte
	dropped  atomic.Uint64 // written by callers
	cut      atomic.Uint64 // lines cut at MaxLineBytes, queued; by callers
	pending  []byte        // the lines queued, under sink.mu
	pendingN uint64
	_        [cacheLinePad]byte

	// Written under sink.writeMu (the counters are read by Stats).
	written, failed, bytes atomic.Uint64
	batch                  []byte
	batchN                 uint64
	file                   *fileState
	segments               int // rotated segments so far
}

// cacheLinePad separates fields written by different goroutines: two
// lines, which processors fetch in pairs.
const cacheLinePad = 128

// registry maps raw category values to categories, lock-free once seen.
type registry struct {
	max int
	raw atomic.Pointer[map[string]*category] // copy-on-write cache

	mu       sync.Mutex
	byName   map[string]*category
	files    []*category // categories with a file of their own, in creation order
	overflow *category
}

func newRegistry(max int) *registry {
	r := &registry{max: max, byName: make(map[string]*category)}
	r.raw.Store(&map[string]*category{})
	return r
}

func (r *registry) lookup(raw string) *category {
	if c, ok := (*r.raw.Load())[raw]; ok {
		return c
	}
	return r.lookupSlow(raw)
}

func (r *registry) lookupSlow(raw string) *category {
	name := SanitizeCategory(raw)
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.byNameLocked(name)
	if old := *r.raw.Load(); len(old) < rawCacheSize {
		m := maps.Clone(old)
		m[strings.Clone(raw)] = c
		r.raw.Store(&m)
	}
	return c
}

// byNameLocked returns the category of a sanitized name, creating it. Past
// the limit a new name's records go to the overflow file; past four times
// the limit a new name is the overflow category, so memory stays bounded.
func (r *registry) byNameLocked(name string) *category {
	if c, ok := r.byName[name]; ok {
		return c
	}
	own := len(r.files) < r.max || name == overflowCategory
	if !own && r.overflow == nil { // its dest: the name may have been taken first by an alias
		r.overflow = r.byNameLocked(overflowCategory).dest
	}
	if !own && len(r.byName) >= 4*r.max {
		return r.overflow
	}
	c := &category{name: name, field: jsonenc.AppendString([]byte(`,"category":`), name)}
	c.dest = c
	if own {
		r.files = append(r.files, c)
	} else {
		c.dest = r.overflow
	}
	r.byName[name] = c
	return c
}

func (r *registry) all() []*category {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*category(nil), r.files...)
}
