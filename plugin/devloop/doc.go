// Package devloop is the plugin's inner loop without restarts: a deploy of
// an image the platform has not built is built natively from the stack file
// that names it, and a deploy of an image whose sources changed since its
// last build is rebuilt and rolled out.
//
// The plugin is told which stack files and directories it may build from
// (Config.Sources: `prescale up -f stack.yml -f more.yml --build-from DIR`;
// a directory means its *.yml and *.yaml files, re-read on every lookup, so
// `faas-cli new my-fn --lang python3` next to a running platform is found by
// the next `faas-cli deploy -f my-fn.yml`). What a function's build depends
// on — its lang and fprocess, its handler directory, its template and the
// stack's configuration.copy paths — is hashed (Hash); the Loop rebuilds
// when the hash differs from the one it last built, into a directory of its
// own (so replicas still draining keep their files), and the Watcher
// redeploys deployed functions whose hash changed (`prescale up --watch`).
package devloop
