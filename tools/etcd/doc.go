// Command etcd is etcd's own server (go.etcd.io/etcd/server/v3/etcdmain),
// pinned in this module's go.sum so the cluster tests start the same etcd
// on every machine.
package main
