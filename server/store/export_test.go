package store

// SetCommitHook makes s call hook as each commit reaches a stage: "decided"
// (the batch's changes are in memory, not yet on disk) and "written" (on
// disk, not yet acknowledged). Call it before the first write.
func (s *Durable) SetCommitHook(hook func(stage string)) { s.commitHook = hook }
