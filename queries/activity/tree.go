package activity

import "slices"

// Tree marks the roots of the lock tree among sessions, and sets every
// session's HoldsUp: how many sessions wait behind it, directly or through
// others. A root blocks others and waits for none. It returns the roots,
// the ones holding up most first. A blocker pid that is not among sessions
// (a prepared transaction's locks are reported as pid 0) is a root too.
func Tree(sessions []Session) []Root {
	waiters := Waiters(sessions)
	blocked := map[int]bool{}
	for _, s := range sessions {
		if len(s.BlockedBy) > 0 {
			blocked[s.PID] = true
		}
	}
	roots := []Root{}
	for i := range sessions {
		s := &sessions[i]
		s.HoldsUp = heldUp(waiters, s.PID)
		s.Root = s.HoldsUp > 0 && !blocked[s.PID]
		if s.Root {
			roots = append(roots, Root{PID: s.PID, HoldsUp: s.HoldsUp})
		}
	}
	known := map[int]bool{}
	for _, s := range sessions {
		known[s.PID] = true
	}
	for pid := range waiters {
		if !known[pid] {
			roots = append(roots, Root{PID: pid, HoldsUp: heldUp(waiters, pid)})
		}
	}
	slices.SortFunc(roots, func(a, b Root) int {
		if a.HoldsUp != b.HoldsUp {
			return b.HoldsUp - a.HoldsUp
		}
		return a.PID - b.PID
	})
	return roots
}

// Waiters maps each blocking pid to the pids waiting for it directly, in
// the order of sessions. A session blocked by several pids is under each.
func Waiters(sessions []Session) map[int][]int {
	w := map[int][]int{}
	for _, s := range sessions {
		for _, b := range s.BlockedBy {
			if !slices.Contains(w[b], s.PID) {
				w[b] = append(w[b], s.PID)
			}
		}
	}
	return w
}

// heldUp counts the distinct sessions that wait behind pid, following the
// waits through (a cycle, a deadlock about to be broken, counts each once).
func heldUp(waiters map[int][]int, pid int) int {
	seen := map[int]bool{pid: true}
	queue := []int{pid}
	n := 0
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, w := range waiters[p] {
			if !seen[w] {
				seen[w] = true
				n++
				queue = append(queue, w)
			}
		}
	}
	return n
}
