// Package progress draws a one-line progress bar on a terminal (or a plain
// line per update when the output is not a terminal), for the pathogan
// command's long jobs. Libraries report progress through callbacks; commands
// connect those callbacks to a Bar.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar is a progress bar for a job of a known number of steps.
type Bar struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	total   int
	start   time.Time
	last    time.Time
	tty     bool
	done    int
	drawn   int // the done count last drawn, -1 before the first draw
	extra   string
	stopped bool
}

// New starts a bar writing to w (usually os.Stderr).
func New(w io.Writer, label string, total int) *Bar {
	return &Bar{w: w, label: label, total: total, start: time.Now(), tty: isTerminal(w), drawn: -1}
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Set records that done steps are finished; extra is shown after the bar
// (loss values, for example). Redraws are limited to a few per second on a
// terminal and one line every 10% otherwise.
func (b *Bar) Set(done int, extra string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	prev := b.done
	b.done, b.extra = done, extra
	now := time.Now()
	if b.tty {
		if done < b.total && now.Sub(b.last) < 200*time.Millisecond {
			return
		}
	} else if b.total > 0 && done < b.total && (done*10/b.total) == (prev*10/b.total) {
		return
	}
	b.last = now
	b.draw(now)
}

func (b *Bar) draw(now time.Time) {
	b.drawn = b.done
	el := now.Sub(b.start)
	frac := 0.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
	}
	eta := ""
	if b.done > 0 && b.done < b.total {
		eta = " eta " + (time.Duration(float64(el) / frac * (1 - frac))).Round(time.Second).String()
	}
	const width = 30
	fill := int(frac * width)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	line := fmt.Sprintf("%s [%s] %d/%d %s%s %s", b.label, bar, b.done, b.total, el.Round(time.Second), eta, b.extra)
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return
	}
	b.stopped = true
	if b.drawn != b.done || b.tty {
		b.draw(time.Now())
	}
	if b.tty {
		fmt.Fprintln(b.w)
	}
}
