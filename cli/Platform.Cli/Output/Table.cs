namespace Platform.Cli.Output;

/// <summary>
/// Columns padded to their widest cell, headers first, as cf prints them. Written by hand: a table is
/// twenty lines, and the CLI's start-up time matters more than borders (see ARCHITECTURE.md).
/// </summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Add(params string?[] cells)
    {
        _rows.Add(cells.Select(c => c ?? "").ToArray());
        return this;
    }

    public int Count => _rows.Count;

    public void WriteTo(Terminal terminal)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        terminal.Line(terminal.Bold(Format(headers, widths)));
        foreach (var row in _rows) terminal.Line(Format(row, widths));
    }

    // The last column is not padded, so that no line ends in spaces.
    private static string Format(string[] cells, int[] widths) =>
        string.Join("   ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
