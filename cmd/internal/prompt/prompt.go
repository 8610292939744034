// Package prompt asks the person at the terminal before a change: yes or
// no, or a word typed out for what cannot be taken back easily. --yes
// answers for scripts; with neither a terminal nor --yes it refuses.
package prompt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Prompt is where the question is asked and answered.
type Prompt struct {
	In         io.Reader
	Out        io.Writer   // where the question goes (stderr)
	IsTerminal func() bool // whether a person can answer on In
}

// Confirm asks on a terminal; --yes answers for scripts; with neither it
// refuses, because a schema change must never happen by accident.
func (p Prompt) Confirm(yes bool, what string) error {
	if yes {
		return nil
	}
	if !p.IsTerminal() {
		return errors.New("refusing to change the schema without confirmation: stdin is not a terminal; pass --yes")
	}
	return p.Ask(what)
}

// Ask asks the person at the terminal whether to go on with what.
func (p Prompt) Ask(what string) error {
	fmt.Fprintf(p.Out, "About to %s. Continue? [y/N] ", what)
	answer, _ := bufio.NewReader(p.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errors.New("cancelled: nothing changed")
}

// ConfirmTyped asks the person to type word; --yes answers for scripts.
// Without a terminal and without --yes it refuses.
func (p Prompt) ConfirmTyped(yes bool, what, word string) error {
	if yes {
		return nil
	}
	if !p.IsTerminal() {
		return errors.New("refusing to change the schema without confirmation: stdin is not a terminal; pass --yes")
	}
	fmt.Fprintf(p.Out, "About to %s.\nType %q to continue: ", what, word)
	answer, _ := bufio.NewReader(p.In).ReadString('\n')
	if strings.TrimSpace(answer) != word {
		return errors.New("cancelled: nothing changed")
	}
	return nil
}
