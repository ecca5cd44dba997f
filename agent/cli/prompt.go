package cli

import (
	"fmt"
	"io"
	"strings"
)

// maxAnswer bounds one typed answer.
const maxAnswer = 256

// promptOut is where questions go: Out, or Err when Out carries JSON.
func (r *runner) promptOut() io.Writer {
	if r.json {
		return r.d.Err
	}
	return r.d.Out
}

// readAnswer reads one line from In, a byte at a time so nothing after the
// line is consumed (the shell may pass the same reader to the next
// command). It returns io.EOF when In ends before any byte.
func (r *runner) readAnswer() (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := r.d.In.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				break
			}
			if len(b) < maxAnswer {
				b = append(b, one[0])
			}
			continue
		}
		if err == io.EOF {
			if len(b) == 0 {
				return "", io.EOF
			}
			// The answer ended without a newline: end the prompt's line
			// as a typed Return would have (below, for JSON).
			if !r.json {
				if _, err := io.WriteString(r.promptOut(), "\n"); err != nil {
					return "", err
				}
			}
			break
		}
		if err != nil {
			return "", fmt.Errorf("cannot read the answer: %w", err)
		}
	}
	// With JSON on Out the question went to Err, which no terminal echo
	// ends: end its line here so the error stream stays line-shaped.
	if r.json {
		if _, err := io.WriteString(r.d.Err, "\n"); err != nil {
			return "", err
		}
	}
	return strings.TrimSpace(string(b)), nil
}

// askYesNo asks until the answer is yes or no, three times at most. The end
// of input, or no clear answer, is no.
func (r *runner) askYesNo(question string) (bool, error) {
	w := r.promptOut()
	for range 3 {
		if _, err := io.WriteString(w, question); err != nil {
			return false, err
		}
		ans, err := r.readAnswer()
		if err == io.EOF {
			_, err = io.WriteString(w, "\n")
			return false, err
		}
		if err != nil {
			return false, err
		}
		switch strings.ToLower(ans) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		if _, err := io.WriteString(w, "% Please answer 'yes' or 'no'.\n"); err != nil {
			return false, err
		}
	}
	return false, nil
}

// askConfirm asks an IOS "[confirm]" question: Return or y confirms.
func (r *runner) askConfirm(question string) (bool, error) {
	w := r.promptOut()
	if _, err := io.WriteString(w, question); err != nil {
		return false, err
	}
	ans, err := r.readAnswer()
	if err == io.EOF {
		_, err = io.WriteString(w, "\n")
		return false, err
	}
	if err != nil {
		return false, err
	}
	switch strings.ToLower(ans) {
	case "", "y", "yes":
		return true, nil
	}
	return false, nil
}
