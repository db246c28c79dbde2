using Platform.Benchmarks;

// Platform against Hangfire and Quartz.NET, on this machine, in one run: see docs/benchmarks.md.
var options = BenchmarkOptions.Parse(args);
return await new BenchmarkRun(options).RunAsync();
