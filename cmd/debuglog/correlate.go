package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Pair is one proxy event matched with one orchestrator event.
type Pair struct {
	Match  string  `json:"match"`         // request_id, container_id, stream_id or time
	Key    string  `json:"key,omitempty"` // the shared ID
	Topic  string  `json:"topic"`         // provisioning, circuit_breaker, vpn, stream, request
	DiffMS float64 `json:"diff_ms"`       // proxy time minus orchestrator time
	Orch   *Event  `json:"-"`
	Proxy  *Event  `json:"-"`
	OrchJ  lineRef `json:"orchestrator"`
	ProxyJ lineRef `json:"proxy"`
}

// lineRef is an event as --json writes it: where it is and the whole line.
type lineRef struct {
	File string         `json:"file"`
	Line int            `json:"line"`
	Data map[string]any `json:"data"`
}

// idKeys are the fields that identify the same thing on both sides; the
// proxy's engine_id is the orchestrator's container_id.
var idKeys = []struct {
	match, orchField string
	proxyFields      []string
}{
	{"request_id", "request_id", []string{"request_id"}},
	{"container_id", "container_id", []string{"container_id", "engine_id"}},
	{"stream_id", "stream_id", []string{"stream_id"}},
}

// topicOf says what an event is about, for pairing by time: provisioning,
// circuit_breaker or vpn ("" for none).
func topicOf(ev *Event) string {
	text := strings.ToLower(ev.name() + " " + ev.str("error") + " " + ev.str("error_message") + " " +
		ev.str("blocked_reason_code") + " " + ev.str("blocked_reason") + " " + ev.str("description"))
	switch ev.System {
	case systemOrch:
		switch {
		case ev.Category == "circuit_breaker" && ev.str("state") == "open",
			ev.Category == "stress" && strings.HasPrefix(ev.str("event_type"), "circuit_breaker"):
			return "circuit_breaker"
		case ev.Category == "vpn" && (ev.str("status") == "unhealthy" || ev.str("new_status") == "unhealthy"),
			ev.Category == "stress" && strings.HasPrefix(ev.str("event_type"), "vpn"):
			return "vpn"
		case ev.Category == "provisioning":
			return "provisioning"
		}
	case systemProxy:
		switch {
		case strings.Contains(text, "circuit_breaker") || strings.Contains(text, "circuit breaker"):
			return "circuit_breaker"
		case strings.Contains(text, "vpn") || (ev.Category == "orchestrator_health" && ev.Fields["vpn_connected"] == false):
			return "vpn"
		case ev.Category == "provisioning":
			return "provisioning"
		}
	}
	return ""
}

// cmdCorrelate pairs the proxy's events with the orchestrator's: by
// request_id, by container/engine ID and by stream ID, then by time within
// --within for events about the same thing (provisioning, the circuit
// breaker, the VPN). It holds the orchestrator's events and the proxy's
// events on those topics in memory, and streams the rest of the proxy's.
func cmdCorrelate(args []string, out io.Writer, warn *warner) error {
	fs := newFlags("correlate")
	var proxyDirs, orchDirs stringList
	fs.Var(&proxyDirs, "proxy", "a directory of the proxy's files (repeatable)")
	fs.Var(&orchDirs, "orch", "a directory of the orchestrator's files (repeatable)")
	within := fs.Duration("within", time.Second, "the time window for pairing by time")
	asJSON := fs.Bool("json", false, "one JSON object per pair")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || len(proxyDirs) == 0 || len(orchDirs) == 0 {
		return fmt.Errorf("%w: correlate wants --proxy DIR and --orch DIR", errUsage)
	}
	if *within <= 0 {
		return fmt.Errorf("%w: --within %v: want a positive duration", errUsage, *within)
	}
	orchFiles, err := findFiles(orchDirs, systemOrch, warn)
	if err != nil {
		return err
	}
	proxyFiles, err := findFiles(proxyDirs, systemProxy, warn)
	if err != nil {
		return err
	}

	// The orchestrator's side, indexed by ID.
	var orch []*Event
	index := map[[2]string][]int{} // match, value -> orch events
	for _, f := range orchFiles {
		if err := readFile(f, warn, func(ev *Event) bool {
			if ev.Time.IsZero() {
				return true
			}
			i := len(orch)
			orch = append(orch, ev)
			for _, k := range idKeys {
				if v := ev.str(k.orchField); v != "" {
					index[[2]string{k.match, v}] = append(index[[2]string{k.match, v}], i)
				}
			}
			return true
		}); err != nil {
			return err
		}
	}

	// The proxy's side, streamed: the nearest proxy event for each
	// orchestrator event and shared ID; topic events kept for the window.
	type best struct {
		ev   *Event
		diff time.Duration
	}
	nearest := map[[2]int]*best{} // orch event, id key index -> best
	var proxyTopic []*Event
	for _, f := range proxyFiles {
		if err := readFile(f, warn, func(ev *Event) bool {
			if ev.Time.IsZero() {
				return true
			}
			for ki, k := range idKeys {
				for _, field := range k.proxyFields {
					v := ev.str(field)
					if v == "" {
						continue
					}
					for _, oi := range index[[2]string{k.match, v}] {
						d := absDur(ev.Time.Sub(orch[oi].Time))
						if b := nearest[[2]int{oi, ki}]; b == nil || d < b.diff {
							nearest[[2]int{oi, ki}] = &best{ev, d}
						}
					}
				}
			}
			if topicOf(ev) != "" {
				proxyTopic = append(proxyTopic, ev)
			}
			return true
		}); err != nil {
			return err
		}
	}

	var pairs []*Pair
	paired := map[[2]*Event]bool{}
	add := func(p *Pair) {
		if paired[[2]*Event{p.Orch, p.Proxy}] {
			return
		}
		paired[[2]*Event{p.Orch, p.Proxy}] = true
		p.DiffMS = math.Round(float64(p.Proxy.Time.Sub(p.Orch.Time))/1e3) / 1e3
		pairs = append(pairs, p)
	}
	for key, b := range nearest {
		o, k := orch[key[0]], idKeys[key[1]]
		topic := topicOf(o)
		if topic == "" {
			topic = strings.TrimSuffix(k.match, "_id")
		}
		add(&Pair{Match: k.match, Key: o.str(k.orchField), Topic: topic, Orch: o, Proxy: b.ev})
	}
	sort.Slice(proxyTopic, func(i, j int) bool { return proxyTopic[i].Time.Before(proxyTopic[j].Time) })
	for _, o := range orch {
		topic := topicOf(o)
		if topic == "" {
			continue
		}
		// The nearest proxy event on the same topic within the window.
		i := sort.Search(len(proxyTopic), func(i int) bool { return !proxyTopic[i].Time.Before(o.Time.Add(-*within)) })
		var pick *Event
		for ; i < len(proxyTopic) && !proxyTopic[i].Time.After(o.Time.Add(*within)); i++ {
			if topicOf(proxyTopic[i]) == topic && (pick == nil || absDur(proxyTopic[i].Time.Sub(o.Time)) < absDur(pick.Time.Sub(o.Time))) {
				pick = proxyTopic[i]
			}
		}
		if pick != nil {
			add(&Pair{Match: "time", Topic: topic, Orch: o, Proxy: pick})
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool {
		if !pairs[i].Orch.Time.Equal(pairs[j].Orch.Time) {
			return pairs[i].Orch.Time.Before(pairs[j].Orch.Time)
		}
		return pairs[i].Match < pairs[j].Match
	})

	if *asJSON {
		enc := json.NewEncoder(out)
		for _, p := range pairs {
			p.OrchJ = lineRef{p.Orch.File, p.Orch.Line, p.Orch.Fields}
			p.ProxyJ = lineRef{p.Proxy.File, p.Proxy.Line, p.Proxy.Fields}
			if err := enc.Encode(p); err != nil {
				return err
			}
		}
		return nil
	}
	printPairs(out, pairs, orch, proxyTopic, *within)
	return nil
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// printPairs writes the pairs for people, then what they answer.
func printPairs(out io.Writer, pairs []*Pair, orch, proxyTopic []*Event, within time.Duration) {
	fmt.Fprintf(out, "%d pairs (by ID, then by time within %v)\n", len(pairs), within)
	for _, p := range pairs {
		key := p.Match
		if p.Key != "" {
			key += " " + p.Key
		}
		fmt.Fprintf(out, "  [%s] %-15s orch  %s %-16s %s\n", p.Topic, key, p.Orch.Time.Format("15:04:05.000000"), p.Orch.Category, p.Orch.name())
		fmt.Fprintf(out, "  %*s proxy %s %-16s %s  (%+.1f ms)\n", len(p.Topic)+2+15, "", p.Proxy.Time.Format("15:04:05.000000"),
			p.Proxy.Category, p.Proxy.name(), p.DiffMS)
	}

	fmt.Fprintln(out, "\nfindings:")
	found := false
	// The circuit breaker opening vs the proxy seeing it.
	for _, o := range orch {
		if topicOf(o) == "circuit_breaker" && (o.str("event_type") == "circuit_breaker_opened" || o.str("state") == "open") {
			fmt.Fprintf(out, "  circuit breaker opened at %s (orchestrator %s)", o.Time.Format("15:04:05.000"), o.name())
			if first := firstAfter(proxyTopic, "circuit_breaker", o.Time.Add(-within)); first != nil {
				fmt.Fprintf(out, "; the proxy first saw it at %s (%s, %+.1f ms)\n", first.Time.Format("15:04:05.000"), first.name(),
					float64(first.Time.Sub(o.Time))/1e6)
			} else {
				fmt.Fprintf(out, "; the proxy did not log it within %v\n", sightingHorizon)
			}
			found = true
			break
		}
	}
	// VPN trouble on both sides.
	for _, o := range orch {
		if topicOf(o) == "vpn" {
			fmt.Fprintf(out, "  VPN trouble at %s (orchestrator %s %s)", o.Time.Format("15:04:05.000"), o.Category, o.name())
			if first := firstAfter(proxyTopic, "vpn", o.Time.Add(-within)); first != nil {
				fmt.Fprintf(out, "; on the proxy at %s (%s %s, %+.1f ms)\n", first.Time.Format("15:04:05.000"), first.Category, first.name(),
					float64(first.Time.Sub(o.Time))/1e6)
			} else {
				fmt.Fprintf(out, "; nothing on the proxy within %v\n", sightingHorizon)
			}
			found = true
			break
		}
	}
	// Slow provisioning, end to end.
	for _, p := range pairs {
		if p.Topic != "provisioning" {
			continue
		}
		od, ook := p.Orch.num("duration_ms")
		pd, pok := p.Proxy.num("duration_ms")
		if ook && pok && strings.HasSuffix(p.Orch.name(), "success") {
			fmt.Fprintf(out, "  provisioning %s: the orchestrator took %.0f ms, the proxy's %s %.0f ms\n", p.Orch.str("container_id"), od, p.Proxy.name(), pd)
			found = true
		}
	}
	if !found {
		fmt.Fprintln(out, "  none")
	}
}

// sightingHorizon is how long after an orchestrator event a proxy event on
// the same topic still counts as the proxy seeing it (its health poll is
// every 5s by default; retries back off for up to minutes).
const sightingHorizon = 5 * time.Minute

// firstAfter is the first event on a topic at or after t, within the
// sighting horizon.
func firstAfter(events []*Event, topic string, t time.Time) *Event {
	for _, ev := range events {
		if ev.Time.After(t.Add(sightingHorizon)) {
			break
		}
		if !ev.Time.Before(t) && topicOf(ev) == topic {
			return ev
		}
	}
	return nil
}
