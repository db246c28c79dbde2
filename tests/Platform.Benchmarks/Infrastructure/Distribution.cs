namespace Platform.Benchmarks.Infrastructure;

/// <summary>Percentiles of a set of samples (nearest rank), in the samples' own unit.</summary>
public sealed class Distribution
{
    private readonly double[] _sorted;

    public Distribution(IEnumerable<double> samples) => _sorted = samples.Order().ToArray();

    public int Count => _sorted.Length;
    public double P50 => Percentile(50);
    public double P90 => Percentile(90);
    public double P99 => Percentile(99);
    public double Max => _sorted.Length == 0 ? double.NaN : _sorted[^1];

    public double Percentile(double p)
    {
        if (_sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * _sorted.Length);
        return _sorted[Math.Clamp(rank - 1, 0, _sorted.Length - 1)];
    }

    public override string ToString() =>
        Count == 0 ? "no samples" : $"n={Count} p50={P50:0.0} p90={P90:0.0} p99={P99:0.0} max={Max:0.0}";
}
