package handler

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unsafe"

	categories "github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/internal/safego"
)

// FieldKind is the kind of a Schema field's value, and where Values holds it.
type FieldKind uint8

const (
	// FieldString is a string, in Values.Str; written (and redacted) as
	// slog.String writes it.
	FieldString FieldKind = iota + 1
	// FieldInt is an integer, in Values.Num.
	FieldInt
	// FieldDuration is a duration in nanoseconds, in Values.Num; written
	// as slog.Duration writes it (<key>_ms, in milliseconds).
	FieldDuration
	// FieldBool is a bool, in Values.Num: 0 is false, anything else true.
	FieldBool
	// FieldNull holds no value and is written as null, as slog.Any(key,
	// nil) is: an optional field left out of this shape (an error on
	// success).
	FieldNull
)

// Field is one field of a Schema.
type Field struct {
	Key  string
	Kind FieldKind
}

// The most fields of each sort a Schema has.
const (
	MaxSchemaStrings = 4 // FieldString fields
	MaxSchemaNumbers = 3 // FieldInt, FieldDuration and FieldBool fields
)

// Values are one record's values for a Schema: its string fields' in Str
// and its numeric fields' in Num, each in the order of the Schema's fields
// of that sort.
type Values struct {
	Str [MaxSchemaStrings]string
	Num [MaxSchemaNumbers]int64
}

// Schema is the fixed shape of a record that a program logs over and over
// with other values (a finished request: method, path, duration, status):
// its level and its fields' keys and kinds, made by Handler.NewSchema.
// HandleValues queues such a record as its values alone, with the keys'
// text made once, and writes the very line Handle writes for the same
// record (Record). It is for the hot paths of a program's own helpers
// (slogdebug's typed helpers use it); anything else logs through Handle.
type Schema struct {
	s      *sink
	level  slog.Level
	fields []schemaField
	size   int // what the fields cost the queue besides the strings' values
}

// schemaField is a Field with its place in Values and its key's text,
// as the writer's keyCache would give it.
type schemaField struct {
	key    string
	kind   FieldKind
	slot   int    // index into Values.Str or Values.Num
	secret bool   // the Handler's Redactor calls the key secret
	text   []byte // the key as JSON with its colon (k_ms for a duration)
	plain  []byte // the key as JSON with its colon, never k_ms: a redacted duration's
}

// NewSchema returns the shape of records at level with fields, in that
// order, for h and every Handler derived from it. A key may not be empty,
// "category" (bind the category with WithAttrs) or "request_id" (the
// context's is stamped; log a record of its own through Handle), nor
// appear twice.
func (h *Handler) NewSchema(level slog.Level, fields ...Field) (*Schema, error) {
	sc := &Schema{s: h.s, level: level, fields: make([]schemaField, len(fields))}
	strs, nums := 0, 0
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		switch {
		case f.Key == "":
			return nil, fmt.Errorf("handler: schema field %d: empty key", i)
		case f.Key == categories.Key || f.Key == requestIDKey:
			return nil, fmt.Errorf("handler: schema field %q: not a field of a schema (a category is bound with WithAttrs, a request_id comes from the context)", f.Key)
		case seen[f.Key]:
			return nil, fmt.Errorf("handler: schema field %q: appears twice", f.Key)
		}
		seen[f.Key] = true
		sf := schemaField{key: f.Key, kind: f.Kind, secret: h.s.red.SecretKey(f.Key)}
		sf.plain = append(appendString(nil, f.Key), ':')
		sf.text = sf.plain
		if f.Kind == FieldDuration {
			sf.text = append(appendDurationKey(nil, f.Key), ':')
		}
		sc.size += len(f.Key) + 4
		switch f.Kind {
		case FieldString:
			if strs == MaxSchemaStrings {
				return nil, fmt.Errorf("handler: schema field %q: more than %d string fields", f.Key, MaxSchemaStrings)
			}
			sf.slot, strs = strs, strs+1
		case FieldInt, FieldDuration, FieldBool:
			if nums == MaxSchemaNumbers {
				return nil, fmt.Errorf("handler: schema field %q: more than %d numeric fields", f.Key, MaxSchemaNumbers)
			}
			sf.slot, nums = nums, nums+1
			sc.size += 20
		case FieldNull:
		default:
			return nil, fmt.Errorf("handler: schema field %q: unknown kind %d", f.Key, f.Kind)
		}
		sc.fields[i] = sf
	}
	return sc, nil
}

// Level returns the level of the schema's records.
func (sc *Schema) Level() slog.Level { return sc.level }

// attr is the field's attribute in v, as a slog call would pass it.
func (f *schemaField) attr(v *Values) slog.Attr {
	switch f.kind {
	case FieldString:
		return slog.String(f.key, v.Str[f.slot])
	case FieldInt:
		return slog.Int64(f.key, v.Num[f.slot])
	case FieldDuration:
		return slog.Duration(f.key, time.Duration(v.Num[f.slot]))
	case FieldBool:
		return slog.Bool(f.key, v.Num[f.slot] != 0)
	}
	return slog.Any(f.key, nil)
}

// Record returns the slog.Record that HandleValues(ctx, t, msg, sc, v)
// stands for: Handle writes the same line for it.
func (sc *Schema) Record(t time.Time, msg string, v *Values) slog.Record {
	r := slog.NewRecord(t, sc.level, msg, 0)
	for i := range sc.fields {
		r.AddAttrs(sc.fields[i].attr(v))
	}
	return r
}

// valuesEntry is one queued record of a Schema.
type valuesEntry struct {
	seq uint64 // its place among the queue's entries of both kinds
	cat *category
	h   *Handler
	sc  *Schema
	t   time.Time
	msg string
	st  Stamp
	v   Values
	// attrs are the record's attributes after the schema's fields, in the
	// queue's attribute arena: [attrsAt, attrsAt+attrsN).
	attrsAt, attrsN uint32
}

// valuesEntrySize is what a valuesEntry costs the queue besides its strings.
const valuesEntrySize = int(unsafe.Sizeof(valuesEntry{}))

// HandleValues handles the record of schema sc at time t with message msg,
// values v and then attrs, as Handle handles sc.Record(t, msg, v) with
// attrs added: it writes the same line, with h's category, attributes,
// groups and the context's IDs, drops it (and counts it) when the queue is
// full, and never blocks unless Options.BlockWhenFull is set. Like Handle,
// it does not check the level: the caller asks Enabled. sc must come from
// h or a Handler it was derived from (or that was derived from the same
// New).
//
// The values are strings and numbers, which cannot change after the call:
// the record is queued as they are, attrs copied, and encoded by the
// writer (by the caller, as Handle does, while the writer is behind or
// when an attribute's value could change: an error, a Go value). An
// attribute that routes the record ("category") or names its request
// ("request_id") hands the record to Handle.
func (h *Handler) HandleValues(ctx context.Context, t time.Time, msg string, sc *Schema, v *Values, attrs ...slog.Attr) error {
	if sc == nil || v == nil {
		return fmt.Errorf("handler: HandleValues: a nil schema or values (make the schema with NewSchema; pass the values' address)")
	}
	if sc.s != h.s {
		return fmt.Errorf("handler: HandleValues: the schema belongs to another Handler's session (make it with this Handler's NewSchema)")
	}
	cat := h.cat
	if cat == nil {
		if cat = h.s.defCat; cat == nil {
			return nil
		}
	}
	size := valuesEntrySize + len(msg) + sc.size
	for i := range v.Str {
		size += len(v.Str[i])
	}
	stable := true
	for _, a := range attrs {
		if a.Key == categories.Key || a.Key == requestIDKey {
			r := sc.Record(t, msg, v)
			r.AddAttrs(attrs...)
			return h.Handle(ctx, r)
		}
		n, ok := StableSize(a)
		size += attrSize + n
		stable = stable && ok
	}
	var st Stamp
	if !h.noIDs {
		st = h.s.stampOf(ctx)
	}
	if stable && !t.IsZero() && size <= h.s.opts.MaxLineBytes && !h.s.immediate && !h.s.behind.Load() {
		return h.s.synced(h.s.enqueueValues(cat, h, sc, t, msg, &st, v, attrs, size))
	}
	ent := valuesEntry{cat: cat, h: h, sc: sc, t: t, msg: msg, st: st, v: *v, attrsN: uint32(len(attrs))}
	bp := getBuffer()
	var err error
	*bp, err = h.encodeValuesSafely((*bp)[:0], &ent, attrs, h.s.opts.MaxLineBytes, nil)
	return h.s.synced(h.s.enqueueLine(cat, sc.level, bp, err))
}

// attrSize is what an attribute costs the queue besides its key and value.
const attrSize = int(unsafe.Sizeof(slog.Attr{}))

// enqueueValues is enqueue for the record of a Schema.
func (s *sink) enqueueValues(cat *category, h *Handler, sc *Schema, t time.Time, msg string, st *Stamp, v *Values, attrs []slog.Attr, size int) error {
	if ok, err := s.admit(cat.dest, sc.level, size); !ok {
		return err
	}
	n := len(s.pendingVals)
	if n < cap(s.pendingVals) {
		s.pendingVals = s.pendingVals[:n+1] // every field is set below
	} else {
		s.pendingVals = append(s.pendingVals, valuesEntry{})
	}
	takeAhead(s.pendingVals, n)
	ent := &s.pendingVals[n]
	s.seq++
	ent.seq, ent.cat, ent.h, ent.sc, ent.t, ent.msg, ent.st, ent.v = s.seq, cat, h, sc, t, msg, *st, *v
	ent.attrsAt, ent.attrsN = uint32(len(s.pendingAttrs)), uint32(len(attrs))
	if len(attrs) > 0 {
		takeAheadRange(s.pendingAttrs, len(s.pendingAttrs), len(attrs))
		s.pendingAttrs = append(s.pendingAttrs, attrs...)
	}
	s.queued(sc.level, size)
	return nil
}

// encodeValues appends the line of a Schema's record: encodeKeys's line
// for ent.sc.Record(ent.t, ent.msg, &ent.v) with attrs (its attributes)
// added.
func (h *Handler) encodeValues(buf []byte, ent *valuesEntry, attrs []slog.Attr, limit int, keys *keyCache) []byte {
	e := encoder{red: h.s.red, buf: buf, start: len(buf), limit: limit, keys: keys}
	h.appendHead(&e, ent.t, ent.sc.level, ent.cat, ent.msg, &ent.st)
	open := e.depth
	if (len(ent.sc.fields) > 0 || len(attrs) > 0) && !e.truncated {
		at := h.openAttrs(&e)
		wrote := false
		for i := range ent.sc.fields {
			if e.appendField(&ent.sc.fields[i], &ent.v) {
				wrote = true
			}
			if e.truncated {
				break
			}
		}
		for i := 0; i < len(attrs) && !e.truncated; i++ {
			if e.appendAttr(attrs[i]) {
				wrote = true
			}
		}
		open = e.closeAttrs(at, wrote)
	}
	return e.appendTail(open)
}

// encodeValuesSafely is encodeValues recovering a panic, as encodeSafely
// is encode.
func (h *Handler) encodeValuesSafely(buf []byte, ent *valuesEntry, attrs []slog.Attr, limit int, keys *keyCache) (out []byte, err error) {
	mark := len(buf)
	defer func() {
		if v := recover(); v != nil {
			out = buf[:mark]
			err = internalError("encoding a record of category "+ent.cat.name, safego.Recovered(v))
			h.s.notePanic(err, 1)
		}
	}()
	if hk := h.s.opts.hooks; hk != nil && hk.beforeEncode != nil {
		r := ent.sc.Record(ent.t, ent.msg, &ent.v)
		r.AddAttrs(attrs...)
		hk.beforeEncode(&r)
	}
	return h.encodeValues(buf, ent, attrs, limit, keys), nil
}

// appendField is appendAttr for f's attribute in v (f.attr(v)), written
// straight from the values with the key's text made once.
func (e *encoder) appendField(f *schemaField, v *Values) bool {
	if e.truncated {
		return false
	}
	key, redact := f.text, e.red != nil && (e.secret || f.secret)
	if redact {
		key = f.plain // a secret is no duration: no _ms
	}
	mark, comma := len(e.buf), e.comma
	if comma {
		e.buf = append(e.buf, ',')
	}
	e.buf = append(e.buf, key...)
	switch kind := f.kind; {
	case redact:
		e.appendText(Redacted)
	case kind == FieldString:
		e.appendText(v.Str[f.slot])
	case kind == FieldInt:
		e.buf = strconv.AppendInt(e.buf, v.Num[f.slot], 10)
	case kind == FieldDuration:
		e.buf = appendMillis(e.buf, time.Duration(v.Num[f.slot]))
	case kind == FieldBool:
		e.buf = strconv.AppendBool(e.buf, v.Num[f.slot] != 0)
	default:
		e.buf = append(e.buf, "null"...)
	}
	if e.room() >= 0 {
		e.comma = true
		return true
	}
	// Too long even cut (a long key): roll it back.
	e.buf, e.comma = e.buf[:mark], comma
	e.truncated = true
	return false
}
