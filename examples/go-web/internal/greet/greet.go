// Package greet says hello: the file the demo changes to show the Go build cache at work.
package greet

import (
	"fmt"
	"runtime"
)

// Hello names the architecture the server was built for and runs on.
func Hello() string {
	return fmt.Sprintf("hello from kiln's go-web example on %s/%s\n", runtime.GOOS, runtime.GOARCH)
}
