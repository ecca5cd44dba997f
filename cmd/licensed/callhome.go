package main

import (
	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/agent/config"
	callhome "github.com/licensed-dev/licensed/call-home"
)

// newCallHome makes the portal client. The URL may be empty: the operator
// can set it later with 'license call-home url URL'.
func newCallHome(o *config.Options, logf func(string, ...any)) (*callhome.Client, error) {
	return callhome.NewFromFlags(o.Portal, o.PortalCA, logf)
}

var _ agent.CallHomer = (*callhome.Client)(nil)
