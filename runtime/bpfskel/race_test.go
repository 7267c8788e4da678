//go:build race

package bpfskel

const raceEnabled = true
