// Command etcd is the etcd server, built from the Go module proxy: etcd's own
// module carries replace lines, so it cannot be `go install`ed directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
