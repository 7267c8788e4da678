//go:build !race

package bpfskel

const raceEnabled = false
