package configs

import (
	"errors"
	"strconv"
	"strings"
)

// Error is one problem with an experiment. Its message has the form
//
//	FILE:LINE: KEY: message
//
// with ":LINE" left out when the key does not appear in the file (its
// default was used), and "KEY: " left out for a syntax error not tied to a
// key. A problem with a -set override reads
//
//	-set KEY: message
//
// and one with a value given by a command-line flag ([Override]) reads
//
//	FLAG: message
type Error struct {
	File string // the experiment file; may be empty for an experiment built in code
	Line int    // 1-based line of Key in File, or 0 if unknown
	Key  string // dotted key such as "model.hidden" or "arms[1].loss.kind"
	Set  bool   // the key was given as a -set override
	Flag string // the flag that gave the key's value, as written ("-n"), if any
	Msg  string // what is wrong
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Flag != "":
		return e.Flag + ": " + e.Msg
	case e.Set:
		b.WriteString("-set")
		if e.Key != "" {
			b.WriteString(" ")
			b.WriteString(e.Key)
		}
		b.WriteString(": ")
		b.WriteString(e.Msg)
		return b.String()
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	case e.Line > 0:
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinErrors returns nil for no errors, the error itself for one, and
// errors.Join of all of them, one per line, otherwise.
func joinErrors(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}
