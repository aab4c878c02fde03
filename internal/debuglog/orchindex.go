package debuglog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sort"
	"time"
)

// orchIndex holds the orchestrator's events for correlation compactly: per
// event its time, where its line is, and what correlation asks of it
// (name, category, state, topics, weight, whether it is trouble or opens or
// closes a state), 48 bytes an event (and 8 more while it is sorted),
// whatever the line's size. Only the
// events that can be a cause are held: trouble, state changes, and events
// carrying an ID of an effect. The few events a command shows are read
// again from their files (event).
type orchIndex struct {
	evs     [][]orchEvent // in chunks of chunkLen (no copy as they grow); time order once sorted
	n       int
	files   []file
	strs    interner
	byID    map[[2]string][]int32
	wantIDs map[[2]string]bool // nil: every ID
	states  []*stateSpan
	post    []int32 // index as added -> index once sorted
	count   int     // timed orchestrator events read, held or not
	span    span
	sorted  bool
	cache   map[int32]*Event
}

// chunkLen is the events of a chunk of the index.
const chunkLen = 1 << 14

// ev returns event i.
func (ix *orchIndex) ev(i int32) *orchEvent { return &ix.evs[i/chunkLen][i%chunkLen] }

// orchEvent is one orchestrator event in the index.
type orchEvent struct {
	at     int64 // ns since 1970 (saturated: see nanos)
	off    int64 // the line's offset in its file
	line   int32
	file   int32
	name   int32  // interned: ev.name()
	cat    int32  // interned category
	state  int32  // interned str("state")
	topics uint32 // its topics in order, 4 bits each (packTopics)
	tmask  uint8  // the same as a set (topicMask): a cause scores the topics it shares with the effect, its main topic twice
	weight int8
	flags  uint8
}

// orchEvent flags.
const (
	oAdverse = 1 << iota
	oOpens
	oCloses
	oVPN     // the state it opens or closes is the VPN's (else the circuit breaker's)
	oFailure // a failure or a sign of trouble (failure), not a routine event
	oChange  // it opened or closed a state (set by findStates)
)

func (o *orchEvent) time() time.Time { return time.Unix(0, o.at).UTC() }
func (o *orchEvent) adverse() bool   { return o.flags&oAdverse != 0 }

// significant says whether an event is a state change or a failure: it
// ranks above any routine event as a cause.
func (o *orchEvent) significant() bool { return o.flags&(oFailure|oChange) != 0 }

// nanos is t in ns since 1970, saturated at about ±292 years (UnixNano
// is undefined past them).
func nanos(t time.Time) int64 { return int64(t.Sub(time.Unix(0, 0))) }

// interner numbers strings, so that each distinct one is held once.
type interner struct {
	ids  map[string]int32
	strs []string
}

func (in *interner) id(s string) int32 {
	if i, ok := in.ids[s]; ok {
		return i
	}
	if in.ids == nil {
		in.ids = map[string]int32{}
	}
	in.ids[s] = int32(len(in.strs))
	in.strs = append(in.strs, s)
	return int32(len(in.strs) - 1)
}

func (in *interner) str(i int32) string { return in.strs[i] }

// topicCodes number the topics for packing (4 bits each, in order).
var topicCodes = []string{"", topicProvisioning, topicCircuitBreaker, topicVPN, topicEngines, topicStream, topicRequest}

func packTopics(ts topicSet) uint32 {
	var p uint32
	for i := len(ts) - 1; i >= 0; i-- {
		for c, name := range topicCodes {
			if name == ts[i] && c > 0 {
				p = p<<4 | uint32(c)
			}
		}
	}
	return p
}

func unpackTopics(p uint32) topicSet {
	var ts topicSet
	for ; p != 0; p >>= 4 {
		if c := int(p & 0xf); c < len(topicCodes) {
			ts = append(ts, topicCodes[c])
		}
	}
	return ts
}

func newOrchIndex(wantIDs map[[2]string]bool) *orchIndex {
	return &orchIndex{byID: map[[2]string][]int32{}, wantIDs: wantIDs, cache: map[int32]*Event{}}
}

// loadOrchIndex reads the orchestrator's files into an index.
func loadOrchIndex(ctx context.Context, files []file, warn *warner, wantIDs map[[2]string]bool) (*orchIndex, error) {
	ix := newOrchIndex(wantIDs)
	for _, f := range files {
		fi := ix.addFile(f)
		if err := readFile(ctx, f, warn, func(ev *Event) bool {
			ix.add(fi, ev)
			return true
		}); err != nil {
			return nil, err
		}
	}
	ix.sort()
	return ix, nil
}

// addFile registers a file whose events are added with its number.
func (ix *orchIndex) addFile(f file) int32 {
	ix.files = append(ix.files, f)
	return int32(len(ix.files) - 1)
}

// add indexes an event of file fi, if it can be a cause, and returns its
// index as added (-1 when it is not held).
func (ix *orchIndex) add(fi int32, ev *Event) int32 {
	if ev.Time.IsZero() {
		return -1
	}
	ix.count++
	ix.span.add(ev)
	var ids [][2]string
	for _, k := range idKeys {
		for _, f := range k.orchFields {
			if v := ev.str(f); v != "" && (ix.wantIDs == nil || ix.wantIDs[[2]string{k.match, v}]) {
				ids = append(ids, [2]string{k.match, v})
			}
		}
	}
	topic, opens, closes := stateChange(ev)
	adv := adverse(ev)
	if !adv && !opens && !closes && len(ids) == 0 {
		return -1 // routine, sharing no ID with an effect: it explains nothing
	}
	o := orchEvent{at: nanos(ev.Time), off: ev.Offset, line: int32(ev.Line), file: fi, name: ix.strs.id(ev.name()), cat: ix.strs.id(ev.Category),
		state: ix.strs.id(ev.str("state")), weight: int8(weight(ev))}
	ts := topicsOf(ev)
	o.topics, o.tmask = packTopics(ts), topicMask(ts)
	if adv {
		o.flags |= oAdverse
	}
	if failure(ev) {
		o.flags |= oFailure
	}
	if opens {
		o.flags |= oOpens
	}
	if closes {
		o.flags |= oCloses
	}
	if topic == topicVPN {
		o.flags |= oVPN
	}
	i := int32(ix.n)
	if ix.n%chunkLen == 0 {
		ix.evs = append(ix.evs, make([]orchEvent, 0, chunkLen))
	}
	ix.evs[len(ix.evs)-1] = append(ix.evs[len(ix.evs)-1], o)
	ix.n++
	for _, k := range ids {
		ix.byID[k] = append(ix.byID[k], i)
	}
	ix.sorted = false
	return i
}

// sort puts the events in time order (file order within a time),
// renumbers the ID lists and finds the states. It sorts in place: the
// events are the index's bulk.
func (ix *orchIndex) sort() {
	if ix.sorted {
		return
	}
	by := byTime{ix: ix, pre: make([]int32, ix.n)}
	for i := range by.pre {
		by.pre[i] = int32(i)
	}
	sort.Sort(by)
	ix.post = make([]int32, ix.n)
	for to, from := range by.pre {
		ix.post[from] = int32(to)
	}
	for _, list := range ix.byID { // in time order, like the events
		for i, v := range list {
			list[i] = ix.post[v]
		}
		slices.Sort(list)
	}
	ix.states = ix.findStates()
	ix.sorted = true
}

// byTime sorts events by time, then by the order they were added in (pre).
type byTime struct {
	ix  *orchIndex
	pre []int32
}

func (b byTime) Len() int { return b.ix.n }
func (b byTime) Less(i, j int) bool {
	x, y := b.ix.ev(int32(i)), b.ix.ev(int32(j))
	if x.at != y.at {
		return x.at < y.at
	}
	return b.pre[i] < b.pre[j]
}
func (b byTime) Swap(i, j int) {
	x, y := b.ix.ev(int32(i)), b.ix.ev(int32(j))
	*x, *y = *y, *x
	b.pre[i], b.pre[j] = b.pre[j], b.pre[i]
}

// findStates follows the circuit breaker and the VPN through the events.
func (ix *orchIndex) findStates() []*stateSpan {
	var spans []*stateSpan
	open := map[string]*stateSpan{}
	for i := range ix.n {
		o := ix.ev(int32(i))
		if o.flags&(oOpens|oCloses) == 0 {
			continue
		}
		topic := topicCircuitBreaker
		if o.flags&oVPN != 0 {
			topic = topicVPN
		}
		s := open[topic]
		switch {
		case o.flags&oOpens != 0 && s == nil:
			s = &stateSpan{topic: topic, openers: []int32{int32(i)}, closer: -1}
			open[topic] = s
			spans = append(spans, s)
			o.flags |= oChange
		case o.flags&oOpens != 0 && len(s.openers) < 4 && o.at-ix.ev(s.openers[0]).at < int64(time.Second):
			s.openers = append(s.openers, int32(i)) // the same opening, logged in several files
			o.flags |= oChange
		case o.flags&oCloses != 0 && s != nil:
			s.end, s.closer = o.time(), int32(i)
			delete(open, topic)
			o.flags |= oChange
		}
	}
	return spans
}

// event returns the whole event i, read again from its file (and kept:
// the events shown are few). When the line cannot be read again (the file
// changed since), the event has what the index holds.
func (ix *orchIndex) event(i int32) *Event {
	if ev := ix.cache[i]; ev != nil {
		return ev
	}
	o := ix.ev(i)
	f := ix.files[o.file]
	ev, err := readLineAt(f, o.off, int(o.line))
	if err != nil || nanos(ev.Time) != o.at {
		ev = &Event{System: f.system, Session: f.session, Category: ix.strs.str(o.cat), Time: o.time(), File: f.path, Line: int(o.line),
			Fields: map[string]any{"event": ix.strs.str(o.name)}}
		if s := ix.strs.str(o.state); s != "" {
			ev.Fields["state"] = s
		}
	}
	ix.cache[i] = ev
	return ev
}

// readLineAt reads the line of f that starts at off.
func readLineAt(f file, off int64, lineNo int) (*Event, error) {
	if f.store != nil {
		return f.store.lineAt(f, off, lineNo)
	}
	fh, err := openRegular(f.path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var line []byte
	buf := make([]byte, 4096)
	for len(line) <= maxLine {
		n, err := fh.ReadAt(buf, off+int64(len(line)))
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			line = append(line, buf[:i]...)
			break
		}
		line = append(line, buf[:n]...)
		if err == io.EOF && n == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	if len(line) > maxLine {
		return nil, errors.New("line too long")
	}
	ev, err := parseLine(f, line, lineNo)
	if err != nil {
		return nil, err
	}
	ev.Offset = off
	return ev, nil
}

// searchTime returns the index of the first event at or after t (ns).
func (ix *orchIndex) searchTime(at int64) int {
	return sort.Search(ix.n, func(i int) bool { return ix.ev(int32(i)).at >= at })
}
