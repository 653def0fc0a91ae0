package plugin

import (
	"runtime/debug"

	"github.com/openfaas/faas-provider/types"
)

// Release is the plugin's version reported by /system/info.
const Release = "0.1.0"

// versionInfo reports Release and the VCS revision the binary was built from.
func versionInfo() types.VersionInfo {
	v := types.VersionInfo{Release: Release, SHA: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				v.SHA = s.Value
			}
		}
	}
	return v
}
