using System.Globalization;
using System.Text.RegularExpressions;
using Platform.Benchmarks.Infrastructure;

namespace Platform.UnitTests.Benchmarks;

public sealed class ScalingChartTests
{
    [Fact]
    public void Values_ten_times_apart_get_a_log_scale_that_puts_them_at_both_ends()
    {
        var scale = ChartScale.For([1_000, 10_000], 0, 100);

        Assert.True(scale.Log);
        Assert.Equal(0, scale.Map(1_000), 6);
        Assert.Equal(100, scale.Map(10_000), 6);
        Assert.Equal(50, scale.Map(Math.Sqrt(1_000 * 10_000.0)), 6);
        Assert.Equal([1_000, 2_000, 5_000, 10_000], scale.Ticks());
    }

    [Fact]
    public void A_log_scale_starts_and_ends_on_1_2_5_steps_around_the_values()
    {
        var scale = ChartScale.For([20, 50, 100, 150, 200], 0, 1);

        Assert.True(scale.Log);
        Assert.Equal((20, 200), (scale.Min, scale.Max));
        Assert.Equal([20, 50, 100, 200], scale.Ticks());
    }

    [Fact]
    public void Values_less_than_ten_times_apart_get_a_linear_scale_from_zero()
    {
        var scale = ChartScale.For([22.1, 35, double.NaN], 200, 0);

        Assert.False(scale.Log);
        Assert.Equal((0, 50), (scale.Min, scale.Max));
        Assert.Equal(200, scale.Map(0), 6);
        Assert.Equal(0, scale.Map(50), 6);
        Assert.Equal([0, 10, 20, 30, 40, 50], scale.Ticks());
    }

    [Fact]
    public void Every_measured_point_is_drawn_inside_its_panel_and_an_unmeasured_one_is_named()
    {
        ChartPanel[] panels =
        [
            new("List", "events", "ms", [new("p50", [new(1e6, 0.89), new(1e7, 1.4)]), new("p99", [new(1e6, 3.86), new(1e7, double.NaN)])]),
            new("Retention", "tasks", "events/s", [new("events/s", [new(100_000, 65_184), new(1_000_000, 58_000)])]),
            new("Dispatch", "offered tasks/s", "ms", [new("p99", [new(20, 27.3), new(100, 31), new(200, 2_400)])]),
        ];

        var svg = ScalingChart.Svg("a run\nits machine", panels);

        var circles = Regex.Matches(svg, """<circle cx="([\d.]+)" cy="([\d.]+)" r="3" fill="[^"]+" data-series="([^"]+)" data-x="([\d.e+E]+)" data-y="([\d.e+E]+)">""");
        var drawn = circles.Select(c => (c.Groups[3].Value, double.Parse(c.Groups[4].Value, CultureInfo.InvariantCulture), double.Parse(c.Groups[5].Value, CultureInfo.InvariantCulture))).ToList();
        var measured = panels.SelectMany(p => p.Series.SelectMany(s => s.Points.Where(pt => double.IsFinite(pt.Y)).Select(pt => (s.Name, pt.X, pt.Y)))).ToList();
        Assert.Equal(measured.Order(), drawn.Order());
        foreach (Match circle in circles)
        {
            var (x, y) = (double.Parse(circle.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(circle.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.InRange(x, 64, ScalingChart.PanelWidth - 16);
            Assert.InRange(y, 38, ScalingChart.PanelHeight - 46);
        }
        Assert.Contains("p99 (1 not measured)", svg);
        Assert.Contains(">its machine</text>", svg);
        Assert.Contains("(log x, log y)", svg); // dispatch: 20 to 200 offered, 27 to 2,400 ms
        Assert.Contains("(log x, linear y)", svg); // retention: a million tasks against 100,000, the rate within 2×
    }

    [Fact]
    public void Text_is_escaped()
    {
        var svg = ScalingChart.Svg("p50 & p99 <run>", [new ChartPanel("a < b", "x", "y", [new("s", [new(1, 1)])])]);

        Assert.Contains("p50 &amp; p99 &lt;run&gt;", svg);
        Assert.Contains("a &lt; b", svg);
        Assert.DoesNotContain("<run>", svg);
    }
}
