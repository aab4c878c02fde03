package debuglog

import (
	"container/heap"
	"sort"
	"time"
)

// stressTally is what the report keeps of the stress events, whatever
// their number: per type (at most maxStressTypes, the others one
// "(other types)"), the count, the first reportStressFirst and the worst
// reportStressWorst events (drawn one by one), and counts per type and
// minute (coarser units past maxStressCells cells).
type stressTally struct {
	base  int64 // the axis' base, unix ms
	types map[string]*stressType
	order []*stressType
	unit  int64 // seconds of a count's cell
	cells map[[2]int64]int64
}

type stressType struct {
	idx   int
	name  string
	n     int
	first keptHeap // latest on top: the earliest kept
	worst keptHeap // least bad on top: the worst kept
}

const otherStressTypes = "(other types)"

func newStressSummary(base int64) *stressTally {
	return &stressTally{base: base, types: map[string]*stressType{}, unit: 60, cells: map[[2]int64]int64{}}
}

// severityRank orders severities: critical first.
func severityRank(ev *Event) int {
	switch ev.str("severity") {
	case "critical":
		return 2
	case "warning":
		return 1
	}
	return 0
}

// add counts a stress event and keeps it when it is among its type's first
// or worst (kp is the event as the page draws it).
func (s *stressTally) add(ev *Event, kp *kept) {
	name := ev.str("event_type")
	st := s.types[name]
	if st == nil && len(s.order) >= maxStressTypes {
		name = otherStressTypes
		st = s.types[name]
	}
	if st == nil {
		st = &stressType{idx: len(s.order), name: name, first: keptHeap{later: true}, worst: keptHeap{}}
		s.types[name] = st
		s.order = append(s.order, st)
	}
	st.n++
	s.count(st.idx, ev.Time)
	kp.rank = severityRank(ev)
	fill := func() {
		if kp.info == "" {
			kp.info = clip(rawLine(ev), reportDetail)
			kp.trace = executionTrace(ev)
			kp.stacks = goroutineSnapshot(ev)
			kp.ev = ev // an effect, for the correlations
		}
	}
	if st.first.Len() < reportStressFirst || kp.t.Before(st.first.items[0].t) {
		fill()
		heap.Push(&st.first, kp)
		if st.first.Len() > reportStressFirst {
			heap.Pop(&st.first)
		}
	}
	if st.worst.Len() < reportStressWorst || worse(kp, st.worst.items[0]) {
		fill()
		heap.Push(&st.worst, kp)
		if st.worst.Len() > reportStressWorst {
			heap.Pop(&st.worst)
		}
	}
}

// worse says whether a is a worse stress event than b: severity, then
// duration, then the earlier.
func worse(a, b *kept) bool {
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	if a.dur != b.dur {
		return a.dur > b.dur
	}
	return a.order < b.order
}

// count adds one event of type ti at t to its cell, coarsening the cells
// when there are too many.
func (s *stressTally) count(ti int, t time.Time) {
	s.cells[[2]int64{int64(ti), floorDiv(t.Unix(), s.unit)}]++
	for len(s.cells) > maxStressCells {
		s.unit *= 2
		old := s.cells
		s.cells = make(map[[2]int64]int64, len(old)/2)
		for k, n := range old {
			s.cells[[2]int64{k[0], floorDiv(k[1], 2)}] += n
		}
	}
}

// drawn returns the stress events kept, each once, worst first.
func (s *stressTally) drawn() []*kept {
	var out []*kept
	seen := map[*kept]bool{}
	for _, st := range s.order {
		for _, h := range []keptHeap{st.worst, st.first} {
			for _, kp := range h.items {
				if !seen[kp] {
					seen[kp] = true
					out = append(out, kp)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return worse(out[i], out[j]) })
	return out
}

// stressJSON is the stress summary in the page's data.
type stressJSON struct {
	Unit  int64            `json:"unit_s"` // seconds of a cell
	First int              `json:"first"`  // per type, the earliest drawn
	Worst int              `json:"worst"`  // per type, the worst drawn
	Types []stressTypeJSON `json:"types"`
	Cells [][3]int64       `json:"cells"` // type, cell start (ms after base), count
}

type stressTypeJSON struct {
	Name  string `json:"name"`
	N     int    `json:"n"`
	Drawn int    `json:"drawn"`
}

func (s *stressTally) toJSON() stressJSON {
	j := stressJSON{Unit: s.unit, First: reportStressFirst, Worst: reportStressWorst, Types: []stressTypeJSON{}, Cells: [][3]int64{}}
	for _, st := range s.order {
		drawn := map[*kept]bool{}
		for _, kp := range append(append([]*kept{}, st.first.items...), st.worst.items...) {
			drawn[kp] = true
		}
		j.Types = append(j.Types, stressTypeJSON{Name: st.name, N: st.n, Drawn: len(drawn)})
	}
	for k, n := range s.cells {
		j.Cells = append(j.Cells, [3]int64{k[0], k[1]*s.unit*1000 - s.base, n})
	}
	sort.Slice(j.Cells, func(a, b int) bool {
		if j.Cells[a][0] != j.Cells[b][0] {
			return j.Cells[a][0] < j.Cells[b][0]
		}
		return j.Cells[a][1] < j.Cells[b][1]
	})
	return j
}

// keptHeap is a heap of kept events: with later, the latest on top (to
// keep the earliest); else the least bad on top (to keep the worst).
type keptHeap struct {
	items []*kept
	later bool
}

func (h keptHeap) Len() int { return len(h.items) }
func (h keptHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if h.later {
		if !a.t.Equal(b.t) {
			return a.t.After(b.t)
		}
		return a.order > b.order
	}
	return worse(b, a)
}
func (h keptHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *keptHeap) Push(x any)   { h.items = append(h.items, x.(*kept)) }
func (h *keptHeap) Pop() any {
	old := h.items
	x := old[len(old)-1]
	h.items = old[:len(old)-1]
	return x
}
