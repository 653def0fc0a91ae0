// Package fsutil holds the file-system helpers the plugin's packages
// share: an exclusive non-blocking lock file (TryLock) and an atomic file
// copy (CopyAtomic).
package fsutil
