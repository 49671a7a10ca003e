package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/reserveeasy/gateway/loadgen"
)

// runReport prints the table of the JSON lines `loadgen run -json` wrote
// (the fixed-rate table when the runs had a -rate).
func runReport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	ceiling := fs.String("ceiling", "bare", "target every other is compared with, round by round")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("report: want one results file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("open results: %w", err)
	}
	defer f.Close()
	var results []loadgen.Result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r loadgen.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("read results: %w", err)
		}
		results = append(results, r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	rows := loadgen.SummarizeResults(results, *ceiling)
	if loadgen.OpenLoop(rows) {
		return loadgen.WriteRateTable(stdout, rows)
	}
	return loadgen.WriteTable(stdout, rows)
}
