using System.Globalization;
using System.Text;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>A measured figure, or the reason it could not be measured.</summary>
public readonly record struct Figure(double? Value, string? NotMeasured = null)
{
    public static Figure Of(double value) => new(double.IsNaN(value) ? null : value, double.IsNaN(value) ? "no samples" : null);
    public static Figure Missing(string reason) => new(null, reason);
    public static readonly Figure NotApplicable = new(null, "–");

    public string Format() => Value is { } v ? v.ToString(v >= 100 ? "0" : v >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture) : NotMeasured ?? "–";
}

/// <summary>One line of the comparison: a metric, Platform's figure, the peers', and the target.</summary>
public sealed record ResultRow(
    string Metric, string Unit, bool HigherIsBetter, Figure Platform,
    Figure HangfireDefault = default, Figure HangfireFast = default, Figure Quartz = default,
    double? Target = null)
{
    /// <summary>How many times better Platform is than the best peer measured (> 1: Platform better).</summary>
    public string Ratio()
    {
        if (Platform.Value is not { } platform) return "–";
        var peers = new[] { HangfireDefault, HangfireFast, Quartz }.Where(f => f.Value is > 0 or < 0).Select(f => f.Value!.Value).ToList();
        if (peers.Count == 0 || platform == 0) return "–";
        var best = HigherIsBetter ? peers.Max() : peers.Min();
        var ratio = HigherIsBetter ? platform / best : best / platform;
        return ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×";
    }

    public string TargetText() =>
        Target is not { } target ? "–" : (HigherIsBetter ? "≥ " : "≤ ") + target.ToString(CultureInfo.InvariantCulture);

    public string Verdict() =>
        Target is not { } target ? "–" : Platform.Value is not { } v ? "not measured" : (HigherIsBetter ? v >= target : v <= target) ? "met" : "missed";
}

/// <summary>Collects result rows and notes; prints them as an aligned text table and as Markdown.</summary>
public sealed class ResultsTable
{
    private readonly List<ResultRow> _rows = [];
    private readonly List<string> _notes = [];

    public IReadOnlyList<ResultRow> Rows => _rows;
    public IReadOnlyList<string> Notes => _notes;

    public void Add(ResultRow row)
    {
        _rows.Add(row);
        Console.WriteLine($"  {row.Metric} ({row.Unit}): Platform {row.Platform.Format()}"
            + (row.HangfireDefault.Value is null ? "" : $", Hangfire {row.HangfireDefault.Format()}")
            + (row.HangfireFast.Value is null ? "" : $", Hangfire fast {row.HangfireFast.Format()}")
            + (row.Quartz.Value is null ? "" : $", Quartz {row.Quartz.Format()}"));
    }

    /// <summary>Merges a peer's figure into the row of the same metric (the peers run after Platform).</summary>
    public void SetPeer(string metric, Func<ResultRow, ResultRow> change)
    {
        var index = _rows.FindIndex(r => r.Metric == metric);
        if (index >= 0) _rows[index] = change(_rows[index]);
    }

    public void Note(string note)
    {
        _notes.Add(note);
        Console.WriteLine("  note: " + note);
    }

    private static readonly string[] Header = ["metric", "unit", "Platform", "Hangfire (default)", "Hangfire (fast polling)", "Quartz", "ratio", "target", "target met"];

    private IEnumerable<string[]> Cells() => _rows.Select(r => new[]
    {
        r.Metric, r.Unit, r.Platform.Format(), r.HangfireDefault.Format(), r.HangfireFast.Format(), r.Quartz.Format(), r.Ratio(), r.TargetText(), r.Verdict(),
    });

    public string ToText()
    {
        var rows = Cells().Prepend(Header).ToList();
        var widths = Enumerable.Range(0, Header.Length).Select(i => rows.Max(r => Math.Min(r[i].Length, 60))).ToArray();
        var text = new StringBuilder();
        foreach (var (row, index) in rows.Select((r, i) => (r, i)))
        {
            text.AppendLine(string.Join(" | ", row.Select((cell, i) => (cell.Length > 60 ? cell[..57] + "..." : cell).PadRight(widths[i]))));
            if (index == 0) text.AppendLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        }
        return text.ToString();
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", Header) + " |");
        text.AppendLine("|" + string.Concat(Header.Select(_ => " --- |")));
        foreach (var row in Cells()) text.AppendLine("| " + string.Join(" | ", row.Select(c => c.Replace("|", "\\|"))) + " |");
        return text.ToString();
    }
}
