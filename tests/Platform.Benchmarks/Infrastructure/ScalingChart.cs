using System.Globalization;
using System.Security;
using System.Text;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>One measured point of a curve; a NaN <see cref="Y"/> is a point that could not be measured.</summary>
public sealed record ChartPoint(double X, double Y);

/// <summary>One curve of a panel (p50, p99, ...), drawn as a line through its points.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<ChartPoint> Points);

/// <summary>One small chart: what grows along x, what it costs along y, with their units in the labels.</summary>
public sealed record ChartPanel(string Title, string XLabel, string YLabel, IReadOnlyList<ChartSeries> Series);

/// <summary>
/// Maps values of one axis onto pixels. Logarithmic when the values span ten times or more (1,000 and
/// 10,000 schedules would otherwise crowd the smaller point into the corner), linear from zero otherwise.
/// </summary>
public sealed class ChartScale
{
    private ChartScale(double min, double max, bool log, double from, double to)
    {
        (Min, Max, Log, From, To) = (min, max, log, from, to);
    }

    public double Min { get; }
    public double Max { get; }
    public bool Log { get; }
    public double From { get; }
    public double To { get; }

    /// <summary>A scale covering every finite value, onto pixels <paramref name="from"/> to <paramref name="to"/> (either way round).</summary>
    public static ChartScale For(IEnumerable<double> values, double from, double to)
    {
        var finite = values.Where(double.IsFinite).ToList();
        if (finite.Count == 0) return new ChartScale(0, 1, false, from, to);
        var (low, high) = (finite.Min(), finite.Max());
        if (low > 0 && high / low >= 10)
            return new ChartScale(NiceStep(low, down: true), NiceStep(high, down: false), true, from, to);
        var top = high <= 0 ? 1 : NiceStep(high, down: false);
        return new ChartScale(Math.Min(0, low), top, false, from, to);
    }

    /// <summary>The pixel of <paramref name="value"/>.</summary>
    public double Map(double value)
    {
        var share = Log
            ? (Math.Log10(value) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min))
            : (value - Min) / (Max - Min);
        return From + share * (To - From);
    }

    /// <summary>Tick values: 1-2-5 steps on a log scale, about five even steps on a linear one.</summary>
    public IReadOnlyList<double> Ticks()
    {
        if (Log)
        {
            var ticks = new List<double>();
            for (var decade = Math.Floor(Math.Log10(Min)); decade <= Math.Ceiling(Math.Log10(Max)); decade++)
                foreach (var m in (double[])[1, 2, 5])
                {
                    var tick = m * Math.Pow(10, decade);
                    if (tick >= Min * (1 - 1e-9) && tick <= Max * (1 + 1e-9)) ticks.Add(tick);
                }
            // Over many decades only the powers of ten, or the labels run into each other.
            return ticks.Count > 8 ? ticks.Where(t => Math.Abs(Math.Log10(t) - Math.Round(Math.Log10(t))) < 1e-9).ToList() : ticks;
        }
        var step = NiceStep((Max - Min) / 5, down: false);
        var linear = new List<double>();
        for (var tick = Math.Ceiling(Min / step) * step; tick <= Max + step * 1e-9; tick += step) linear.Add(Math.Round(tick, 9));
        return linear;
    }

    /// <summary>The nearest 1, 2 or 5 × 10^k at or below (or above) <paramref name="value"/>.</summary>
    internal static double NiceStep(double value, bool down)
    {
        var decade = Math.Pow(10, Math.Floor(Math.Log10(value)));
        double[] steps = [1, 2, 5, 10];
        var scaled = value / decade;
        var pick = down
            ? steps.Last(s => s <= scaled * (1 + 1e-9))
            : steps.First(s => s >= scaled * (1 - 1e-9));
        return pick * decade;
    }
}

/// <summary>
/// Draws the scaling rows as a small SVG, one panel per curve, written by hand: the benchmark references no
/// charting package, and a few lines and circles do not need one. Every measured point is a circle with its
/// value beside it (and in a tooltip), so the picture can be read without the table.
/// </summary>
public static class ScalingChart
{
    public const int PanelWidth = 420, PanelHeight = 270, Columns = 2;
    private const double Left = 64, Right = 16, Top = 38, Bottom = 46;
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];

    /// <summary>The picture: <paramref name="caption"/> (one line of text per line) above the panels, two to a row.</summary>
    public static string Svg(string caption, IReadOnlyList<ChartPanel> panels)
    {
        var captionLines = caption.Split('\n');
        var header = 16 * captionLines.Length + 10;
        var rows = Math.Max(1, (panels.Count + Columns - 1) / Columns);
        var (width, height) = (PanelWidth * Columns, PanelHeight * rows + header);
        var svg = new StringBuilder();
        svg.AppendLine($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">""");
        svg.AppendLine($"""<rect width="{width}" height="{height}" fill="white"/>""");
        for (var line = 0; line < captionLines.Length; line++)
            svg.AppendLine($"""<text x="8" y="{18 + 16 * line}" font-size="12">{Escape(captionLines[line])}</text>""");
        for (var i = 0; i < panels.Count; i++)
        {
            svg.AppendLine($"""<g transform="translate({i % Columns * PanelWidth},{i / Columns * PanelHeight + header})">""");
            Panel(svg, panels[i]);
            svg.AppendLine("</g>");
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, ChartPanel panel)
    {
        var points = panel.Series.SelectMany(s => s.Points).ToList();
        var x = ChartScale.For(points.Where(p => double.IsFinite(p.Y)).Select(p => p.X), Left + 12, PanelWidth - Right - 12);
        var y = ChartScale.For(points.Select(p => p.Y), PanelHeight - Bottom, Top + 8);
        svg.AppendLine($"""<text x="{Left}" y="13" font-weight="bold">{Escape(panel.Title)}</text>""");
        svg.AppendLine($"""<rect x="{Left}" y="{Top}" width="{PanelWidth - Left - Right}" height="{PanelHeight - Top - Bottom}" fill="none" stroke="#999"/>""");
        foreach (var tick in x.Ticks())
        {
            var px = Number(x.Map(tick));
            svg.AppendLine($"""<line x1="{px}" y1="{Top}" x2="{px}" y2="{PanelHeight - Bottom}" stroke="#eee"/>""");
            svg.AppendLine($"""<text x="{px}" y="{PanelHeight - Bottom + 14}" text-anchor="middle">{Label(tick)}</text>""");
        }
        foreach (var tick in y.Ticks())
        {
            var py = Number(y.Map(tick));
            svg.AppendLine($"""<line x1="{Left}" y1="{py}" x2="{PanelWidth - Right}" y2="{py}" stroke="#eee"/>""");
            svg.AppendLine($"""<text x="{Left - 4}" y="{py}" text-anchor="end" dominant-baseline="middle">{Label(tick)}</text>""");
        }
        var scales = (x.Log ? "log x" : "linear x") + ", " + (y.Log ? "log y" : "linear y");
        svg.AppendLine($"""<text x="{(Left + PanelWidth - Right) / 2}" y="{PanelHeight - 12}" text-anchor="middle">{Escape(panel.XLabel)} ({scales})</text>""");
        svg.AppendLine($"""<text transform="translate(14,{(Top + PanelHeight - Bottom) / 2}) rotate(-90)" text-anchor="middle">{Escape(panel.YLabel)}</text>""");

        var legendX = Left;
        for (var s = 0; s < panel.Series.Count; s++)
        {
            var series = panel.Series[s];
            var colour = Colours[s % Colours.Length];
            var measured = series.Points.Where(p => double.IsFinite(p.Y) && double.IsFinite(p.X)).OrderBy(p => p.X).ToList();
            if (measured.Count > 1)
                svg.AppendLine($"""<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{string.Join(" ", measured.Select(p => $"{Number(x.Map(p.X))},{Number(y.Map(p.Y))}"))}"/>""");
            foreach (var p in measured)
            {
                var (px, py) = (Number(x.Map(p.X)), Number(y.Map(p.Y)));
                svg.AppendLine($"""<circle cx="{px}" cy="{py}" r="3" fill="{colour}" data-series="{Escape(series.Name)}" data-x="{Exact(p.X)}" data-y="{Exact(p.Y)}"><title>{Escape(series.Name)}: {Label(p.X)} → {Label(p.Y)}</title></circle>""");
                svg.AppendLine($"""<text x="{px}" y="{Number(y.Map(p.Y) - 6)}" text-anchor="middle" fill="{colour}" font-size="10">{Label(p.Y)}</text>""");
            }
            var missing = series.Points.Count - measured.Count;
            // The legend, in a row between the title and the plot, names each curve, and says so when some
            // of its points could not be measured.
            var legend = series.Name + (missing > 0 ? $" ({missing} not measured)" : "");
            svg.AppendLine($"""<text x="{Number(legendX)}" y="30" fill="{colour}">● {Escape(legend)}</text>""");
            legendX += 6.5 * legend.Length + 24;
        }
    }

    /// <summary>A short label: 1.5k, 10M, 12.4, 0.85.</summary>
    internal static string Label(double value)
    {
        var abs = Math.Abs(value);
        string Short(double v) => v.ToString(v >= 100 || v == Math.Round(v) ? "0" : v >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
        return abs >= 1e6 ? Short(value / 1e6) + "M" : abs >= 1e4 ? Short(value / 1e3) + "k" : Short(value);
    }

    // Pixels to a tenth; the measured values in full, for whoever reads the figures back out of the picture.
    private static string Number(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
    private static string Exact(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
