package benchout

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"hmperf/queries/bench"
)

// WriteReport writes dir/report.md and one SVG chart per table of r
// into dir (created if missing). The Markdown links the charts by relative
// path, so the directory renders as it is on a code-hosting page.
func WriteReport(dir string, r *bench.Result, cmdline string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	var charts []string
	for _, c := range r.Comparisons {
		name := "bench-" + c.Pair + ".svg"
		if err := writeBenchChart(filepath.Join(dir, name), r, c.Pair); err != nil {
			return fmt.Errorf("bench report: chart of %s: %w", c.Pair, err)
		}
		charts = append(charts, name)
	}
	var b strings.Builder
	writeReportMarkdown(&b, r, cmdline, charts)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	return nil
}

func writeReportMarkdown(b *strings.Builder, r *bench.Result, cmdline string, charts []string) {
	fmt.Fprintf(b, "# hmperf benchmark run %d\n\n", r.ID)
	fmt.Fprintf(b, "Reproduce with:\n\n```\n%s\n```\n\n", cmdline)
	fmt.Fprintf(b, "- rows per write: %s; repetitions: %d", Thousands(float64(r.Rows)), r.Reps)
	if r.Auto {
		b.WriteString(" (chosen by `--reps auto`)")
	}
	fmt.Fprintf(b, "; seed %d\n- method: %s\n- server: %s\n- settings: %s\n- table sizes before: %s\n",
		r.Seed, r.Setup.Describe(), r.Server.Version, settingsLine(r.Server.Settings), sizesLine(r.SizesBefore))
	fmt.Fprintf(b, "- intervals: %s\n- overhead: %s\n", bench.IntervalMethod, overheadDefinition)
	if warn := FsyncWarning(r); warn != "" {
		fmt.Fprintf(b, "\n**Warning:** %s.\n", warn)
	}
	b.WriteString("\n## Claims\n\n| table | claim | claimed | measured (median) | 95% interval | reps | verdict |\n|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, c := range r.Comparisons {
		for _, v := range c.Verdicts {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %d | **%s** |\n", c.Pair, bench.ClaimWording(v.Claim), claimed(v), measured(c, v), verdictCI(v), v.Reps, v.Verdict)
			if v.Why != "" {
				notes = append(notes, fmt.Sprintf("%s, %s: %s", c.Pair, bench.ClaimWording(v.Claim), v.Why))
			}
		}
		notes = append(notes, c.FloorWarnings...)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(b, "- %s\n", n)
		}
	}
	b.WriteString("\n## Throughput\n\n| table | variant | median rows/s | 95% interval | overhead vs floor | 95% interval |\n|---|---|---|---|---|---|\n")
	for _, v := range r.Results {
		over, overIv := signedPct(v.OverheadPct), ciText(v.OverheadLow, v.OverheadHigh, signedPct)
		if v.Variant == bench.Unconstrained {
			over, overIv = "floor", ""
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", v.Table, v.Variant, Thousands(v.MedianRPS), ciText(v.RPSLow, v.RPSHigh, Thousands), over, overIv)
	}
	for i, c := range r.Comparisons {
		fmt.Fprintf(b, "\n![%s: rows/s per repetition, median and 95%% interval](%s)\n", c.Pair, charts[i])
	}
}

// writeBenchChart draws one pair's per-repetition rows/s of each variant as
// points, with the median as a bar across them and the 95% interval as an
// error bar.
func writeBenchChart(path string, r *bench.Result, pair string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: rows/s per repetition (%s)", pair, r.Setup.Method)
	p.Y.Label.Text = "rows/s"
	p.Y.Min = 0
	names := make([]string, len(bench.Variants))
	for i, v := range bench.Variants {
		names[i] = string(v)
		if err := addVariant(p, r, pair, v, float64(i)); err != nil {
			return err
		}
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}

// variantColor tells the variants apart in every chart.
func variantColor(v bench.Variant) color.Color {
	switch v {
	case bench.Original:
		return color.RGBA{R: 0xd9, G: 0x5f, B: 0x02, A: 0xff}
	case bench.Optimized:
		return color.RGBA{R: 0x1b, G: 0x9e, B: 0x77, A: 0xff}
	}
	return color.RGBA{R: 0x75, G: 0x70, B: 0xb3, A: 0xff}
}

func addVariant(p *plot.Plot, r *bench.Result, pair string, v bench.Variant, x float64) error {
	var pts plotter.XYs
	for _, m := range r.Measurements {
		if m.Table == pair && m.Variant == v {
			// Spread the points sideways by repetition so equal rates
			// stay visible.
			pts = append(pts, plotter.XY{X: x - 0.2 + 0.4*float64(m.Rep%10)/10, Y: m.RowsPerSec})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.GlyphStyle.Color = variantColor(v)
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	sc.GlyphStyle.Radius = vg.Points(2.5)
	p.Add(sc)
	var res *bench.VariantResult
	for i := range r.Results {
		if r.Results[i].Table == pair && r.Results[i].Variant == v {
			res = &r.Results[i]
		}
	}
	if res == nil {
		return nil
	}
	median, err := plotter.NewLine(plotter.XYs{{X: x - 0.3, Y: res.MedianRPS}, {X: x + 0.3, Y: res.MedianRPS}})
	if err != nil {
		return err
	}
	median.LineStyle.Width = vg.Points(2)
	median.LineStyle.Color = color.Black
	p.Add(median)
	if res.RPSLow != nil {
		bar, err := plotter.NewYErrorBars(ciBar{x: x + 0.35, y: res.MedianRPS, lo: res.MedianRPS - *res.RPSLow, hi: *res.RPSHigh - res.MedianRPS})
		if err != nil {
			return err
		}
		bar.LineStyle.Width = vg.Points(1.5)
		p.Add(bar)
	}
	return nil
}

// ciBar is one median with its interval, as plotter.YErrorBars takes it.
type ciBar struct{ x, y, lo, hi float64 }

func (c ciBar) Len() int                      { return 1 }
func (c ciBar) XY(int) (float64, float64)     { return c.x, c.y }
func (c ciBar) YError(int) (float64, float64) { return c.lo, c.hi }
