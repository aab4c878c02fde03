package debuglog

import (
	"flag"
	"fmt"
	"sort"
	"strings"
)

// sessionList is the repeatable --session flag: the sessions to read
// (each flag may name several, comma-separated).
type sessionList []string

func (s *sessionList) String() string { return strings.Join(*s, ",") }
func (s *sessionList) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" && !s.has(id) {
			*s = append(*s, id)
		}
	}
	return nil
}

func (s sessionList) has(id string) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}

// sessionFlag adds --session to a command's flags.
func sessionFlag(fs *flag.FlagSet) *sessionList {
	var s sessionList
	fs.Var(&s, "session", "read only this session (repeatable, or comma-separated; each system's files need one of theirs); default: every session, with a warning when several are mixed")
	return &s
}

// maxSessionsNamed bounds the sessions a warning or an error names.
const maxSessionsNamed = 10

// sessionsOf lists, per system, the sessions of files in the order of
// their IDs (which are their start times), with their number of files.
func sessionsOf(files []file) map[string][]sessionCount {
	counts := map[string]map[string]int{}
	for _, f := range files {
		if counts[f.system] == nil {
			counts[f.system] = map[string]int{}
		}
		counts[f.system][f.session]++
	}
	out := map[string][]sessionCount{}
	for sys, m := range counts {
		for id, n := range m {
			out[sys] = append(out[sys], sessionCount{id, n})
		}
		sort.Slice(out[sys], func(i, j int) bool { return out[sys][i].id < out[sys][j].id })
	}
	return out
}

type sessionCount struct {
	id    string
	files int
}

// sessionNames names sessions for a message, escaped, at most
// maxSessionsNamed of them.
func sessionNames(ss []sessionCount, withFiles bool) string {
	var parts []string
	for i, s := range ss {
		if i == maxSessionsNamed {
			parts = append(parts, fmt.Sprintf("and %d more", len(ss)-i))
			break
		}
		id := escapeText(s.id)
		if s.id == "" {
			id = "(no session in the file name)"
		}
		if withFiles {
			id += " (" + plural(s.files, "file") + ")"
		}
		parts = append(parts, id)
	}
	return strings.Join(parts, ", ")
}

// systemName is how messages name a system's files.
func systemName(sys string) string {
	if sys == systemOrch {
		return "the orchestrator's"
	}
	return "the proxy's"
}

// pickSessions keeps the files of the sessions named with --session. A
// session named that no file has is an error, and so is a system whose
// files hold none of the sessions named (its sessions are listed, to pick
// from). With no --session every file is kept, and merged says whether
// the command mixes sessions: then a system whose files hold several
// sessions is warned about, naming them and the flag.
func pickSessions(files []file, want sessionList, merged bool, warn *warner) ([]file, error) {
	found := sessionsOf(files)
	systems := make([]string, 0, len(found))
	for sys := range found {
		systems = append(systems, sys)
	}
	sort.Strings(systems)
	sort.SliceStable(systems, func(i, j int) bool { return systems[i] == systemProxy }) // the proxy's first
	if len(want) == 0 {
		if merged {
			for _, sys := range systems {
				if ss := found[sys]; len(ss) > 1 {
					warn.general("%s files hold %d sessions, read together: %s; --session ID reads one (repeat it, or separate IDs with commas, to name one of each system's)",
						systemName(sys), len(ss), sessionNames(ss, true))
				}
			}
		}
		return files, nil
	}
	var all []string
	for _, sys := range systems {
		for _, s := range found[sys] {
			all = append(all, s.id)
		}
	}
	for _, id := range want {
		known := false
		for _, x := range all {
			known = known || x == id
		}
		if !known {
			var have []string
			for _, sys := range systems {
				have = append(have, strings.TrimPrefix(systemName(sys), "the ")+" "+sessionNames(found[sys], false))
			}
			return nil, fmt.Errorf("no file of session %s (sessions found: %s)", escapeText(id), strings.Join(have, "; "))
		}
	}
	for _, sys := range systems {
		hit := false
		for _, s := range found[sys] {
			hit = hit || want.has(s.id)
		}
		if !hit {
			return nil, fmt.Errorf("--session names none of %s sessions (%s): name one of them too (--session %s,ID), or leave that system's directories out",
				systemName(sys), sessionNames(found[sys], false), escapeText(want.String()))
		}
	}
	var out []file
	for _, f := range files {
		if want.has(f.session) {
			out = append(out, f)
		}
	}
	return out, nil
}

// pickSystems is pickSessions for a command given each system's files apart.
func pickSystems(proxy, orch []file, want sessionList, warn *warner) ([]file, []file, error) {
	all, err := pickSessions(append(append([]file{}, proxy...), orch...), want, true, warn)
	if err != nil {
		return nil, nil, err
	}
	var p, o []file
	for _, f := range all {
		if f.system == systemOrch {
			o = append(o, f)
		} else {
			p = append(p, f)
		}
	}
	return p, o, nil
}
