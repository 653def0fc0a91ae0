package api

import "github.com/openfaas/faas-provider/types"

func typesVersion() types.VersionInfo { return types.VersionInfo{Release: "0.1.0-test", SHA: "abc123"} }
