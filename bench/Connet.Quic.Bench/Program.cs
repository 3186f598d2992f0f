using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Connet.Quic.Bench;

string mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "all";
double seconds = ReadOption(args, "--seconds", 5);
double megabytes = ReadOption(args, "--megabytes", 1024);
if (mode is not ("throughput" or "handshakes" or "micro" or "all"))
{
    Console.Error.WriteLine("usage: Connet.Quic.Bench [throughput|handshakes|micro|all] [--seconds N] [--megabytes N] [--allocations]");
    return 2;
}

if (mode is "throughput" or "all")
{
    using AllocationSampler? sampler = args.Contains("--allocations") ? new AllocationSampler() : null;
    await ThroughputBenchmark.RunAsync((long)(megabytes * 1024 * 1024), TimeSpan.FromSeconds(seconds));
    sampler?.Print(top: 15);
}

if (mode is "handshakes" or "all")
{
    await HandshakeBenchmark.RunAsync(TimeSpan.FromSeconds(seconds), concurrency: 1);
    await HandshakeBenchmark.RunAsync(TimeSpan.FromSeconds(seconds), concurrency: 4);
}

if (mode is "micro" or "all")
{
    // The short job keeps a full run to a few minutes on a shared 2-core machine.
    IConfig config = DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator);
    BenchmarkRunner.Run([typeof(PacketProtectionBenchmarks), typeof(FrameBenchmarks)], config, ["--job", "short", "--memory"]);
}

return 0;

static double ReadOption(string[] args, string name, double fallback)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length
        ? double.Parse(args[index + 1], CultureInfo.InvariantCulture)
        : fallback;
}
